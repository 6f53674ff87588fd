import { connectSsh, type SshSession } from '../linux-guest/ssh.js';
import { Platform, type Instance } from '../platform.js';
import type { RemoteHost } from './remote-host.js';
import { shellLine } from './ssh-connection.js';

/** What every Linux guest on another host has: its QEMU's pid there and its SSH forward on that host's loopback. */
export interface RemoteGuestInstance extends Instance {
  readonly pid: number;
  readonly sshPort: number;
  readonly privateKeyPath: string;
}

/**
 * What the VM platforms on another host (QEMU over SSH, Vagrant against its
 * libvirt) share: the host's files for every /proc read, its connection's
 * losses for the failure model, the guest's SSH through a loopback forward
 * of that connection, and CPU pinning by taskset there.
 */
export abstract class RemoteGuestPlatform<I extends RemoteGuestInstance> extends Platform<I> {
  constructor(
    name: string,
    protected readonly host: RemoteHost,
    protected readonly ctx: { cacheDir: string; log?: (line: string) => void },
  ) {
    super(name);
    this.hostFs = host.fs;
  }

  protected log(line: string): void {
    this.ctx.log?.(`[${this.name}@${this.host.name}] ${line}`);
  }

  protected guestSsh(inst: I, timeoutMs: number): Promise<SshSession> {
    return connectSsh({ port: inst.sshPort, privateKeyPath: inst.privateKeyPath, timeoutMs, attemptTimeoutMs: Math.min(3000, timeoutMs), sock: async () => (await this.host.connection()).openLoopback(inst.sshPort) });
  }

  override hostLostSince(sinceMono: number): string | null {
    return this.host.lostSince(sinceMono);
  }

  override async pinCpus(inst: I, cpus: string): Promise<void> {
    await (await this.host.connection()).run(shellLine(['taskset', '-a', '-p', '-c', cpus, String(inst.pid)]));
  }
}
