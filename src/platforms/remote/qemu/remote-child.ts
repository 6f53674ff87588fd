import { createWriteStream } from 'node:fs';
import type { ClientChannel } from 'ssh2';
import { shellLine, type SshConnection } from '../ssh-connection.js';

/**
 * A process on the target host tied to the SSH connection: started by its
 * own exec channel as `setpriv --pdeathsig KILL -- argv…`, so its parent is
 * the connection's sshd process and the kernel kills it the moment that
 * process ends — the controller crashed, was killed, or the network went.
 * Nothing a run starts remotely outlives its connection; `bench gc --host`
 * is for what a host that stayed up but lost track still holds (scratch
 * directories).
 */
export interface RemoteChild {
  channel: ClientChannel;
  exited: boolean;
  exitInfo: string | null;
  stderr: string;
  /** Resolves once the process has ended (or its channel, with the connection). */
  done: Promise<void>;
}

/** Start argv on the host, tied to the connection (setpriv from util-linux; plain exec where it is missing). */
export async function spawnTied(conn: SshConnection, argv: readonly string[], opts: { cwd?: string; pdeathsig: boolean; onData?: (c: Buffer) => void }): Promise<RemoteChild> {
  const tied = opts.pdeathsig ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
  const line = `${opts.cwd ? `cd ${shellLine([opts.cwd])} && ` : ''}exec ${shellLine(tied)}`;
  let resolveDone!: () => void;
  const child: Omit<RemoteChild, 'channel'> = { exited: false, exitInfo: null, stderr: '', done: new Promise<void>((r) => (resolveDone = r)) };
  // Listeners attached as the channel opens (see SshConnection.spawn): a process that ends at once is still seen to.
  const channel = await conn.spawn(line, (ch) => {
    ch.stderr.on('data', (c: Buffer) => {
      child.stderr += c.toString('utf8');
      if (child.stderr.length > 16 * 1024) child.stderr = child.stderr.slice(-8 * 1024);
    });
    ch.on('data', opts.onData ?? (() => undefined));
    ch.on('exit', (code: number | null, signal?: string) => {
      child.exitInfo = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
    });
    ch.on('close', () => {
      child.exited = true;
      child.exitInfo ??= conn.lost ? `ssh connection lost (${conn.lost})` : 'channel closed';
      resolveDone();
    });
  });
  return Object.assign(child, { channel });
}

/** Wait up to ms for the child to end; true if it did. */
export async function waitChild(child: RemoteChild, ms: number): Promise<boolean> {
  if (child.exited) return true;
  await Promise.race([child.done, new Promise((r) => setTimeout(r, ms).unref())]);
  return child.exited;
}

/**
 * The host's copy of a growing file (the guest's serial console) mirrored
 * into a local file as it grows, by `tail -c +1 -F` on the host — so the
 * local console readers (linux-guest/console.ts) work unchanged. tail ends
 * with the process `untilPid` (QEMU) and with the connection.
 */
export async function mirrorFile(conn: SshConnection, remotePath: string, localPath: string, untilPid: number): Promise<{ stop(): void }> {
  const out = createWriteStream(localPath, { flags: 'a' });
  const child = await spawnTied(conn, ['tail', '-c', '+1', `--pid=${untilPid}`, '-F', remotePath], { pdeathsig: true, onData: (c) => out.write(c) });
  void child.done.then(() => out.end());
  return {
    stop: () => {
      child.channel.close();
      out.end();
    },
  };
}
