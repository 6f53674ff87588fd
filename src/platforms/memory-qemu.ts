import { basename } from 'node:path';
import { BenchError, messageOf } from '../errors.js';
import { GUEST_SERVER } from '../workload/contract.js';
import { describeArgv, parseMeminfo, parseSmapsRollup, processMemoryFrom, readProcessMemory } from './memory-proc.js';
import type { MemoryReading, WorkloadMemory } from './memory-types.js';
import type { QemuInstance } from './qemu.js';
import { connectSsh, type SshSession } from './ssh.js';

/**
 * Host memory of one QEMU VM (definition: src/measure/memory.ts):
 *
 *  - host: /proc/<qemu pid>/smaps_rollup on the host. Its PSS is the guest RAM
 *    QEMU has touched (the guest kernel, its page cache, every guest process)
 *    plus QEMU itself (TCG translation cache, device emulation, its binaries).
 *  - workload: over SSH (127.0.0.1:<sshPort>, the instance key), list
 *    /proc/[0-9]*\/cmdline inside the guest, pick the process whose argv has the
 *    server script as an argument, and read its /proc/<pid>/smaps_rollup (and
 *    the guest's /proc/meminfo for context).
 *
 * The guest is read first, the host second, so pages the SSH session touched
 * in the guest are in QEMU's figure too.
 */

const MARK = '@@vmbench-mem';

/** One shell line: every guest pid with its raw (NUL-separated) cmdline, each after a marker line. */
export const GUEST_LIST_COMMAND = `for d in /proc/[0-9]*; do printf '\\n${MARK} %s\\n' "\${d#/proc/}"; cat "$d/cmdline" 2>/dev/null; done; printf '\\n'`;

/** Parse GUEST_LIST_COMMAND's output into pid → argv. */
export function parseGuestProcessList(stdout: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const parts = stdout.split(`\n${MARK} `);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    if (nl < 0) continue;
    const pid = Number(part.slice(0, nl));
    if (!Number.isInteger(pid)) continue;
    let raw = part.slice(nl + 1);
    if (raw.endsWith('\n')) raw = raw.slice(0, -1);
    const argv = raw.split('\0');
    if (argv.length && argv[argv.length - 1] === '') argv.pop();
    out.set(pid, argv);
  }
  return out;
}

/** The guest's workload server: an argv that has the server script as one whole argument (not a shell mentioning it). */
export function findServerPid(procs: Map<number, string[]>, script = GUEST_SERVER): number | null {
  const hits = [...procs].filter(([, argv]) => argv.slice(1).includes(script) && !!argv[0] && basename(argv[0]).startsWith('node'));
  hits.sort((a, b) => a[0] - b[0]);
  return hits[0]?.[0] ?? null;
}

/** The part of a QemuInstance the reader needs. */
export type QemuMemoryTarget = Pick<QemuInstance, 'pid' | 'sshPort' | 'privateKeyPath' | 'facts'>;

export async function readQemuMemory(instance: QemuMemoryTarget, opts: { sshTimeoutMs?: number } = {}): Promise<MemoryReading> {
  const notes: string[] = [];
  const timeoutMs = opts.sshTimeoutMs ?? 30_000;
  let ssh: SshSession | null = null;
  let workload: WorkloadMemory;
  let meminfo: Record<string, number> = {};
  try {
    ssh = await connectSsh({ port: instance.sshPort, privateKeyPath: instance.privateKeyPath, timeoutMs });
    const list = await ssh.exec(GUEST_LIST_COMMAND, { timeoutMs });
    const procs = parseGuestProcessList(list.stdout);
    const serverPid = findServerPid(procs);
    if (serverPid === null) {
      throw new BenchError(
        'infrastructure',
        `memory reading: no process running ${GUEST_SERVER} inside the guest (${procs.size} processes listed)`,
      );
    }
    const read = await ssh.exec(`cat /proc/${serverPid}/smaps_rollup && echo ${MARK} && cat /proc/meminfo`, { timeoutMs });
    if (read.code !== 0) {
      throw new BenchError('infrastructure', `memory reading: guest cat /proc/${serverPid}/smaps_rollup failed (exit ${read.code}): ${read.stderr.trim()}`);
    }
    const [rollupText, meminfoText = ''] = read.stdout.split(`${MARK}\n`);
    const rollup = parseSmapsRollup(rollupText ?? '');
    workload = { ...processMemoryFrom(serverPid, describeArgv(procs.get(serverPid) ?? null), rollup), seenFrom: 'guest-ssh' };
    meminfo = parseMeminfo(meminfoText);
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('infrastructure', `memory reading inside the guest failed: ${messageOf(err)}`, { cause: err });
  } finally {
    ssh?.dispose();
  }

  const qemu = await readProcessMemory(instance.pid);
  if (!qemu) throw new BenchError('infrastructure', `memory reading: cannot read /proc/${instance.pid}/smaps_rollup (qemu gone?)`);

  const info: Record<string, number> = {
    qemuRss: qemu.rssBytes,
    // THP: QEMU madvises guest RAM MADV_HUGEPAGE, so under THP 'madvise' a touched guest page costs 2 MiB on the host.
    qemuAnonHugePages: qemu.anonHugePagesBytes,
  };
  if (qemu.pssAnonBytes !== null) info.qemuPssAnon = qemu.pssAnonBytes;
  if (qemu.pssFileBytes !== null) info.qemuPssFile = qemu.pssFileBytes;
  if (typeof instance.facts.memoryMiB === 'number') info.guestRamConfigured = instance.facts.memoryMiB * 2 ** 20;
  if (meminfo.MemTotal !== undefined) info.guestMemTotal = meminfo.MemTotal;
  if (meminfo.MemAvailable !== undefined) info.guestMemAvailable = meminfo.MemAvailable;
  if (meminfo.MemTotal !== undefined && meminfo.MemAvailable !== undefined) info.guestMemUsed = meminfo.MemTotal - meminfo.MemAvailable;
  if (meminfo.Cached !== undefined) info.guestPageCache = meminfo.Cached;
  else notes.push('guest /proc/meminfo not read');

  return {
    kind: 'qemu',
    method: [
      `host /proc/${instance.pid}/smaps_rollup (qemu): Pss counted`,
      `workload = guest /proc/${workload.pid}/smaps_rollup over ssh 127.0.0.1:${instance.sshPort} (pid found by argv containing ${GUEST_SERVER} in guest /proc/*/cmdline)`,
      'guest /proc/meminfo for context',
      'host page cache of the disk image not attributed',
    ].join('; '),
    takenAtEpochMs: Date.now(),
    host: {
      attributableBytes: qemu.pssBytes,
      counted: { qemuPss: qemu.pssBytes },
      pageCacheBytes: null,
      info,
      processes: [qemu],
    },
    workload,
    notes,
  };
}
