import { BenchError } from '../../errors.js';

/**
 * The kernel command line contract between the QEMU platform and the guest
 * (read by /sbin/vmbench-init from /proc/cmdline; the kernel ignores the
 * dotted vmbench.* parameters and leaves them there):
 *
 *   console=ttyS0 root=/dev/vda rw quiet panic=-1
 *   vmbench.port=<guest TCP port of the server, default 8080>
 *   vmbench.threads=<ORT intra-op threads; unset → server default>
 *   vmbench.model_name=<name in /v2/models/{name}; unset → server default>
 *   vmbench.authkey=<base64 of the whole "ssh-ed25519 AAAA… comment" line>
 *   vmbench.ip=<guest address/prefix, default 10.0.2.15/24>
 *   vmbench.gw=<default gateway, default 10.0.2.2>
 */
export const GUEST_DEFAULTS = {
  ip: '10.0.2.15/24',
  gateway: '10.0.2.2',
  dns: '10.0.2.3',
  port: 8080,
  sshPort: 22,
  console: 'ttyS0',
  rootDevice: '/dev/vda',
  hostname: 'vmbench',
} as const;

export interface GuestCmdlineOptions {
  port?: number;
  threads?: number;
  modelName?: string;
  /** The public key line ("ssh-ed25519 AAAA… comment"); base64-encoded onto the command line. */
  authorizedKey?: string;
  ip?: string;
  gateway?: string;
  /** Console device; ttyS0 for -M pc and microvm with an ISA serial port. */
  console?: string;
  /** Extra kernel parameters appended verbatim (e.g. tsc_early_khz=…). */
  extra?: readonly string[];
  quiet?: boolean;
}

const SAFE = /^[A-Za-z0-9._:/+=,@-]+$/;

/** Build the kernel command line for a vmbench guest (see the contract above). */
export function guestKernelCmdline(o: GuestCmdlineOptions = {}): string {
  const parts = [`console=${o.console ?? GUEST_DEFAULTS.console}`, `root=${GUEST_DEFAULTS.rootDevice}`, 'rw'];
  if (o.quiet ?? true) parts.push('quiet');
  parts.push('panic=-1');
  const add = (key: string, value: string | number | undefined) => {
    if (value === undefined) return;
    const v = String(value);
    if (!SAFE.test(v)) throw new BenchError('input', `vmbench.${key}=${JSON.stringify(v)}: not allowed on a kernel command line`);
    parts.push(`vmbench.${key}=${v}`);
  };
  add('port', o.port ?? GUEST_DEFAULTS.port);
  add('threads', o.threads);
  add('model_name', o.modelName);
  if (o.authorizedKey !== undefined) add('authkey', Buffer.from(o.authorizedKey.trim()).toString('base64'));
  add('ip', o.ip);
  add('gw', o.gateway);
  for (const x of o.extra ?? []) parts.push(x);
  const line = parts.join(' ');
  if (line.length > 2000) throw new BenchError('input', `kernel command line too long (${line.length} > 2000 bytes)`);
  return line;
}
