import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import { BenchError, messageOf } from '../../errors.js';
import { GUEST_SERVER } from '../../workload/contract.js';
import { SERVER_PIDFILE } from '../../workload/image-workload.js';
import { describeArgv, parseMeminfo, parseSmapsRollup, processMemoryFrom } from '../host/proc-memory.js';
import type { WorkloadMemory } from '../memory-reading.js';
import { connectSsh, type SshSession } from './ssh.js';

/**
 * The workload server's memory as seen inside a Linux instance (a VM guest
 * over SSH, a gVisor sandbox through docker exec): list /proc/[0-9]*\/cmdline,
 * pick the process whose argv has the server script as an argument, and read
 * its /proc/<pid>/smaps_rollup — or its smaps, summed, where the kernel has
 * no rollup (gVisor) — and /proc/meminfo for context. PSS here counts the
 * pages of that kernel (guest-physical pages in a VM).
 */

/** Runs one shell command inside the instance. */
export type InsideExec = (command: string) => Promise<{ code: number | null; stdout: string; stderr: string }>;

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

/** The guest server's smaps_rollup figures and the guest's /proc/meminfo, over SSH. */
export async function readGuestServerMemory(
  target: { port: number; privateKeyPath: string; sock?: () => Promise<Duplex> },
  timeoutMs: number,
): Promise<{ workload: WorkloadMemory; meminfo: Record<string, number> }> {
  let ssh: SshSession | null = null;
  try {
    ssh = await connectSsh({ port: target.port, privateKeyPath: target.privateKeyPath, timeoutMs, sock: target.sock });
    const session = ssh;
    return await readServerMemoryInside((cmd) => session.exec(cmd, { timeoutMs }), 'guest-ssh');
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('infrastructure', `memory reading inside the guest failed: ${messageOf(err)}`, { cause: err });
  } finally {
    ssh?.dispose();
  }
}

/** The same reading through any way of running a command inside the instance. */
export async function readServerMemoryInside(
  exec: InsideExec,
  seenFrom: WorkloadMemory['seenFrom'],
): Promise<{ workload: WorkloadMemory; meminfo: Record<string, number> }> {
  let workload: WorkloadMemory;
  let meminfo: Record<string, number> = {};
  try {
    const list = await exec(GUEST_LIST_COMMAND);
    const procs = parseGuestProcessList(list.stdout);
    // The built-in server by its script; an image workload's server by the pid its VM init wrote,
    // or (a container seen from inside, e.g. gVisor) the container's first process.
    let serverPid = findServerPid(procs);
    if (serverPid === null) {
      const written = Number((await exec(`cat ${SERVER_PIDFILE} 2>/dev/null`)).stdout.trim());
      if (Number.isInteger(written) && procs.has(written)) serverPid = written;
      else if (seenFrom === 'docker-exec' && procs.has(1)) serverPid = 1;
    }
    if (serverPid === null) {
      throw new BenchError(
        'infrastructure',
        `memory reading: no process running ${GUEST_SERVER} inside the guest, and no ${SERVER_PIDFILE} naming one (${procs.size} processes listed)`,
      );
    }
    const read = await exec(`{ cat /proc/${serverPid}/smaps_rollup 2>/dev/null || cat /proc/${serverPid}/smaps; } && echo ${MARK} && cat /proc/meminfo`);
    if (read.code !== 0) {
      throw new BenchError('infrastructure', `memory reading: cat /proc/${serverPid}/smaps_rollup (or smaps) inside failed (exit ${read.code}): ${read.stderr.trim()}`);
    }
    const [rollupText, meminfoText = ''] = read.stdout.split(`${MARK}\n`);
    const rollup = parseSmapsRollup(rollupText ?? '');
    workload = { ...processMemoryFrom(serverPid, describeArgv(procs.get(serverPid) ?? null), rollup), seenFrom };
    meminfo = parseMeminfo(meminfoText);
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('infrastructure', `memory reading inside the instance failed: ${messageOf(err)}`, { cause: err });
  }
  return { workload, meminfo };
}
