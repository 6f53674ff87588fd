import { readFileSync } from 'node:fs';
import { BenchError } from '../../errors.js';
import { LOOPBACK } from '../host/ports.js';
import { GUEST_SSH_PORT } from '../linux-guest/kernel-cmdline.js';
import { vfioArgs } from './vfio.js';

/**
 * Pure construction of the qemu-system-x86_64 command line (the guest's
 * kernel command line is linux-guest/kernel-cmdline.ts). No I/O except the
 * optional host TSC frequency lookup, which callers may pass in instead.
 */

export type Accel = 'kvm' | 'tcg';
export type Machine = 'microvm' | 'pc' | 'q35';

/**
 * QEMU's seccomp sandbox: no obsolete syscalls, no privilege elevation (setuid
 * and the like), no resource-control calls (sched/affinity). Spawning stays
 * allowed: the snapshot migrates through `exec:cat > file`, which QEMU runs
 * with /bin/sh.
 */
export const QEMU_SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny';

/** Translated-code cache cap under TCG (MiB): dominates QEMU's RSS otherwise. */
export const TCG_TB_SIZE_MIB = 64;

export interface QemuArgsOptions {
  name: string;
  machine: Machine;
  accel: Accel;
  /** CPU model; default 'max' (under KVM '-cpu host' aborts on an MSR on some hosts). */
  cpu?: string;
  cpus: number;
  memoryMiB: number;
  kernel: string;
  initrd: string;
  cmdline: string;
  disk: string;
  diskFormat?: 'qcow2' | 'raw';
  consoleLog: string;
  qmpSocket: string;
  pidfile: string;
  /** Host ports on 127.0.0.1. */
  hostPort: number;
  guestPort: number;
  sshPort: number;
  /** PCI devices passed through with vfio-pci (q35 only; see vfio.ts). */
  vfio?: readonly string[];
}

/** Escape a value for QEMU's option syntax (commas are doubled). */
export function qemuOptValue(v: string): string {
  return v.replaceAll(',', ',,');
}

function int(n: number, what: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new BenchError('internal', `invalid ${what}: ${n}`);
  return n;
}

function port(n: number, what: string): number {
  return int(n, what, 1, 65535);
}

/** Device model names for the machine type (microvm has no PCI bus). */
export function virtioDevices(machine: Machine): { blk: string; net: string } {
  return machine === 'microvm'
    ? { blk: 'virtio-blk-device', net: 'virtio-net-device' }
    : { blk: 'virtio-blk-pci', net: 'virtio-net-pci' };
}

export function hostfwdRules(o: Pick<QemuArgsOptions, 'hostPort' | 'guestPort' | 'sshPort'>): string[] {
  return [
    `hostfwd=tcp:${LOOPBACK}:${port(o.hostPort, 'hostPort')}-:${port(o.guestPort, 'guestPort')}`,
    `hostfwd=tcp:${LOOPBACK}:${port(o.sshPort, 'sshPort')}-:${GUEST_SSH_PORT}`,
  ];
}

export function buildQemuArgs(o: QemuArgsOptions): string[] {
  if (!/^[A-Za-z0-9._-]+$/.test(o.name)) throw new BenchError('internal', `invalid VM name ${JSON.stringify(o.name)}`);
  if (o.hostPort === o.sshPort) throw new BenchError('internal', 'server and ssh host ports must differ');
  const dev = virtioDevices(o.machine);
  const args: string[] = ['-name', o.name];
  args.push('-M', o.machine);
  if (o.accel === 'tcg') args.push('-accel', `tcg,tb-size=${TCG_TB_SIZE_MIB}`);
  else args.push('-accel', 'kvm');
  args.push('-cpu', o.cpu ?? 'max');
  args.push('-smp', String(int(o.cpus, 'cpus', 1, 1024)), '-m', String(int(o.memoryMiB, 'memoryMiB', 64)));
  args.push('-display', 'none', '-no-reboot', '-nodefaults', '-no-user-config');
  args.push('-sandbox', QEMU_SANDBOX);
  args.push('-chardev', `file,id=con0,path=${qemuOptValue(o.consoleLog)}`, '-serial', 'chardev:con0');
  args.push('-qmp', `unix:${qemuOptValue(o.qmpSocket)},server=on,wait=off`);
  args.push('-pidfile', o.pidfile);
  args.push('-kernel', o.kernel, '-initrd', o.initrd, '-append', o.cmdline);
  args.push(
    '-drive',
    `file=${qemuOptValue(o.disk)},if=none,id=d0,format=${o.diskFormat ?? 'qcow2'}`,
    '-device',
    `${dev.blk},drive=d0`,
  );
  // restrict=on: the guest can reach nothing outside; explicit forwards still work.
  args.push('-netdev', ['user', 'id=n0', 'restrict=on', ...hostfwdRules(o)].join(','), '-device', `${dev.net},netdev=n0`);
  args.push(...vfioArgs(o.vfio ?? [], o.machine));
  return args;
}

/**
 * The host's TSC frequency in kHz, best effort: cpufreq base_frequency, else the
 * first "cpu MHz" of /proc/cpuinfo, else cpufreq cpuinfo_max_freq; null if unknown.
 */
export function hostCpuKhz(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number | null {
  const tryRead = (p: string): string | null => {
    try {
      return read(p);
    } catch {
      return null;
    }
  };
  const base = tryRead('/sys/devices/system/cpu/cpu0/cpufreq/base_frequency');
  if (base && Number(base.trim()) > 0) return Math.round(Number(base.trim()));
  const cpuinfo = tryRead('/proc/cpuinfo');
  const m = cpuinfo ? /^cpu MHz\s*:\s*([0-9.]+)/m.exec(cpuinfo) : null;
  if (m && Number(m[1]) > 0) return Math.round(Number(m[1]) * 1000);
  const max = tryRead('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq');
  if (max && Number(max.trim()) > 0) return Math.round(Number(max.trim()));
  return null;
}

/** `auto` → microvm with KVM, pc with TCG (microvm under TCG can hang on clock calibration). */
export function resolveMachine(requested: 'auto' | Machine, accel: Accel): Machine {
  if (requested !== 'auto') return requested;
  return accel === 'kvm' ? 'microvm' : 'pc';
}
