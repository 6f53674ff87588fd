import { messageOf } from '../../errors.js';
import type { SshSession } from './ssh.js';

/**
 * How every QEMU-run Linux guest (here or on another host) is asked to stop:
 * `poweroff` over its SSH, else an ACPI powerdown over QMP, then a bounded
 * wait for QEMU to exit. The caller kills what is still running after it.
 */
export interface GracefulStop {
  /** What was asked of the guest (stopMethod says how it ended). */
  request: 'ssh-poweroff' | 'system_powerdown';
  /** QEMU exited within the grace time. */
  graceful: boolean;
}

export async function stopGuestGracefully(o: {
  vmName: string;
  /** The guest's SSH, connected within this long. */
  ssh: (timeoutMs: number) => Promise<SshSession>;
  qmp: { execute(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown> } | null | undefined;
  /** Resolves true once QEMU has exited, false after ms. */
  exited: (ms: number) => Promise<boolean>;
  graceMs: number;
  log: (line: string) => void;
}): Promise<GracefulStop> {
  const deadline = performance.now() + o.graceMs;
  let ssh: SshSession | null = null;
  let request: GracefulStop['request'];
  try {
    ssh = await o.ssh(1500);
    await ssh.fire('poweroff', 300);
    request = 'ssh-poweroff';
  } catch (err) {
    o.log(`${o.vmName}: ssh poweroff not possible (${messageOf(err)}); trying ACPI powerdown`);
    await o.qmp?.execute('system_powerdown', undefined, 500).catch(() => undefined);
    request = 'system_powerdown';
  }
  const graceful = await o.exited(Math.max(0, deadline - performance.now()));
  ssh?.dispose();
  return { request, graceful };
}
