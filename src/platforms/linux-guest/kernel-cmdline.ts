import { BenchError } from '../../errors.js';
import { SERVER_PORT_INSIDE } from '../../workload/contract.js';

/**
 * The kernel command line contract between every Linux VM substrate (QEMU,
 * Vagrant/libvirt, the top-level Vagrantfile) and the guest: read by
 * /sbin/vmbench-init from /proc/cmdline; the kernel ignores the dotted
 * vmbench.* parameters and leaves them there.
 *
 *   console=ttyS0 root=/dev/vda rw quiet panic=-1 [tsc_early_khz=<host kHz>]
 *   vmbench.port=<guest TCP port of the server, default 8080>
 *   vmbench.threads=<ORT intra-op threads>
 *   vmbench.model_name=<name in /v2/models/{name}>
 *   vmbench.authkey=<base64 of the whole "ssh-ed25519 AAAA… comment" line>
 *   vmbench.ip=<guest address/prefix, default 10.0.2.15/24>
 *   vmbench.device=gpu, vmbench.fallback=cpu   (GPU images only: read by their /sbin/vmbench-init, see gpu-init.ts)
 */
export const GUEST_DEFAULTS = {
  ip: '10.0.2.15/24',
  gateway: '10.0.2.2',
  dns: '10.0.2.3',
  port: SERVER_PORT_INSIDE,
  sshPort: 22,
  console: 'ttyS0',
  rootDevice: '/dev/vda',
  hostname: 'vmbench',
} as const;

/** Port sshd (dropbear) listens on inside the guest. */
export const GUEST_SSH_PORT = GUEST_DEFAULTS.sshPort;

export interface GuestCmdlineOptions {
  guestPort: number;
  threads: number;
  modelName: string;
  /** The whole 'ssh-ed25519 AAAA… comment' line. */
  authorizedKey: string;
  /** Host TSC kHz, passed as tsc_early_khz (microvm under TCG contention hangs without it). */
  tscKhz?: number | null;
  /** Optional static address (the guest otherwise uses the user-net default 10.0.2.15/24). */
  ip?: string;
  quiet?: boolean;
  /** GPU inference (a GPU image's init passes them to the server as VMBENCH_DEVICE / VMBENCH_FALLBACK). */
  device?: 'gpu';
  fallback?: boolean;
}

const CMDLINE_MAX = 2048; // x86 COMMAND_LINE_SIZE

/** The fixed part every guest gets (console, root device, no reboot loop). */
function baseParts(quiet: boolean): string[] {
  return [`console=${GUEST_DEFAULTS.console}`, `root=${GUEST_DEFAULTS.rootDevice}`, 'rw', ...(quiet ? ['quiet'] : []), 'panic=-1'];
}

function int(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BenchError('internal', `invalid ${what}: ${n}`);
  return n;
}

export function buildKernelCmdline(o: GuestCmdlineOptions): string {
  if (!/^[A-Za-z0-9._-]+$/.test(o.modelName)) {
    throw new BenchError('input', `model name ${JSON.stringify(o.modelName)} cannot go on a kernel command line`, {
      hint: 'use letters, digits, ".", "_" or "-"',
    });
  }
  if (!/^ssh-ed25519 [A-Za-z0-9+/=]+( .*)?$/.test(o.authorizedKey) || /[\r\n]/.test(o.authorizedKey)) {
    throw new BenchError('internal', 'authorized key must be one "ssh-ed25519 AAAA… comment" line');
  }
  if (o.ip !== undefined && !/^[0-9.]+\/[0-9]+$/.test(o.ip)) throw new BenchError('internal', `invalid guest address ${o.ip}`);
  const parts = baseParts(o.quiet !== false);
  if (o.tscKhz && o.tscKhz > 0) parts.push(`tsc_early_khz=${Math.round(o.tscKhz)}`);
  parts.push(
    `vmbench.port=${int(o.guestPort, 'guestPort')}`,
    `vmbench.threads=${int(o.threads, 'threads')}`,
    `vmbench.model_name=${o.modelName}`,
    `vmbench.authkey=${Buffer.from(o.authorizedKey, 'utf8').toString('base64')}`,
  );
  if (o.ip) parts.push(`vmbench.ip=${o.ip}`);
  if (o.device === 'gpu') parts.push('vmbench.device=gpu', ...(o.fallback ? ['vmbench.fallback=cpu'] : []));
  const line = parts.join(' ');
  if (line.length >= CMDLINE_MAX) throw new BenchError('internal', `kernel command line too long (${line.length})`);
  return line;
}

/**
 * The same command line with `%{threads}` and `%{authkey}` (base64) left for
 * the top-level Vagrantfile to fill in (Ruby's format syntax); written into
 * the box's vagrant-box.json so the Vagrantfile never spells it out itself.
 */
export function kernelCmdlineTemplate(): string {
  return [...baseParts(true), `vmbench.port=${GUEST_DEFAULTS.port}`, 'vmbench.threads=%{threads}', 'vmbench.authkey=%{authkey}'].join(' ');
}
