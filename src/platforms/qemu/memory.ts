import type { Duplex } from 'node:stream';
import { BenchError } from '../../errors.js';
import type { HostFs } from '../host/host-fs.js';
import { GUEST_SERVER } from '../../workload/contract.js';
import { readProcessMemory } from '../host/proc-memory.js';
import { readGuestServerMemory } from '../linux-guest/guest-memory.js';
import type { MemoryReading } from '../memory-reading.js';
import type { QemuInstance } from './instance.js';

/**
 * Host memory of one QEMU VM (definition: src/measure/memory.ts):
 *
 *  - host: /proc/<qemu pid>/smaps_rollup on the host. Its PSS is the guest RAM
 *    QEMU has touched (the guest kernel, its page cache, every guest process)
 *    plus QEMU itself (TCG translation cache, device emulation, its binaries).
 *  - workload: the server's smaps_rollup inside the guest, over SSH
 *    (linux-guest/guest-memory.ts).
 *
 * The guest is read first, the host second, so pages the SSH session touched
 * in the guest are in QEMU's figure too.
 */

/** The part of a QemuInstance the reader needs. */
export type QemuMemoryTarget = Pick<QemuInstance, 'pid' | 'sshPort' | 'privateKeyPath' | 'facts'>;

export interface QemuMemoryOptions {
  sshTimeoutMs?: number;
  /** The files of QEMU's host (default this machine's). */
  fs?: HostFs;
  /** How to reach the guest's sshd (default TCP to 127.0.0.1:sshPort from here). */
  guestSock?: () => Promise<Duplex>;
}

export async function readQemuMemory(instance: QemuMemoryTarget, opts: QemuMemoryOptions = {}): Promise<MemoryReading> {
  const notes: string[] = [];
  const timeoutMs = opts.sshTimeoutMs ?? 30_000;
  const { workload, meminfo } = await readGuestServerMemory({ port: instance.sshPort, privateKeyPath: instance.privateKeyPath, sock: opts.guestSock }, timeoutMs);

  const qemu = await readProcessMemory(instance.pid, '/proc', opts.fs);
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
      `${opts.fs && opts.fs.host !== 'local' ? `host ${opts.fs.host}` : 'host'} /proc/${instance.pid}/smaps_rollup (qemu): Pss counted`,
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
