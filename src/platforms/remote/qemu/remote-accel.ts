import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../../errors.js';
import { buildProbeInitramfs, KVM_CPU_CANDIDATES, PROBE_MARKER, type ResolvedAccel } from '../../qemu/accel.js';
import type { Machine } from '../../qemu/args.js';
import { VM_NAME_PREFIX } from '../../qemu/procs.js';
import type { RemoteHost } from '../remote-host.js';
import { shellLine } from '../ssh-connection.js';

/**
 * Which accelerator works on a remote host, found the way the local probe
 * finds it (qemu/accel.ts): /dev/kvm must be usable by the SSH user, and
 * the artifact's kernel must boot a busybox initramfs under KVM there and
 * print the marker. Not cached: a remote host can change between runs, and
 * the probe is ≤ 10 s per CPU model.
 */

const PROBE_TIMEOUT_S = 10;

export async function resolveRemoteAccelerator(
  host: RemoteHost,
  requested: 'auto' | 'kvm' | 'tcg',
  o: { qemuSystem: string; kernel: string; machine: Machine; hostKhz: number | null; cacheDir: string; log: (l: string) => void },
): Promise<ResolvedAccel> {
  if (requested === 'tcg') return { accel: 'tcg', cpu: 'max', reason: 'tcg requested' };
  const conn = await host.connection();
  const kvm = await conn.exec('test -r /dev/kvm -a -w /dev/kvm');
  let reason: string;
  if (kvm.code !== 0) {
    reason = `/dev/kvm is missing or not read-write for ${host.config.user} on ${host.name}`;
  } else {
    const dir = await mkdtemp(join(o.cacheDir, 'remote-probe-'));
    const attempts: string[] = [];
    try {
      const local = join(dir, 'probe-initrd.cpio');
      await writeFile(local, await buildProbeInitramfs());
      const initrd = (await host.ensureFile(local, 'probe-initrd.cpio')).path;
      const append = ['console=ttyS0', 'panic=-1', 'loglevel=4', ...(o.machine === 'microvm' && o.hostKhz ? [`tsc_early_khz=${o.hostKhz}`] : [])].join(' ');
      for (const cpu of KVM_CPU_CANDIDATES) {
        const argv = [
          'timeout', '-s', 'KILL', String(PROBE_TIMEOUT_S), o.qemuSystem, '-name', `${VM_NAME_PREFIX}accelprobe-remote`, '-M', o.machine, '-accel', 'kvm', '-cpu', cpu,
          '-smp', '1', '-m', '128', '-display', 'none', '-no-reboot', '-nodefaults', '-no-user-config', '-serial', 'stdio', '-kernel', o.kernel, '-initrd', initrd, '-append', append,
        ];
        o.log(`accel on ${host.name}: probing KVM with -cpu ${cpu} (≤ ${PROBE_TIMEOUT_S} s)`);
        const t0 = performance.now();
        const r = await conn.exec(shellLine(argv), { timeoutMs: (PROBE_TIMEOUT_S + 10) * 1000 });
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        if (r.stdout.includes(PROBE_MARKER)) return { accel: 'kvm', cpu, reason: `kvm probe on ${host.name} booted with -cpu ${cpu}: marker seen after ${s} s` };
        attempts.push(`-cpu ${cpu} ${r.code === 137 || r.signal === 'KILL' ? 'timeout' : `exit ${r.code}`} after ${s} s`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    reason = `kvm probe on ${host.name} failed: ${attempts.join('; ')}`;
  }
  if (requested === 'kvm') {
    throw new BenchError('unsupported', `KVM was requested on host ${host.name} but does not work there: ${reason}`, {
      hint: "set the platform's accel to 'auto' or 'tcg', or add the SSH user to the kvm group on that host",
    });
  }
  return { accel: 'tcg', cpu: 'max', reason };
}
