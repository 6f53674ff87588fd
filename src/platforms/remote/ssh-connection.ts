import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { BenchError, messageOf } from '../../errors.js';
import { blobKeyType, checkHostKey, knownHostsName, knownKeysFor } from './known-hosts.js';

/**
 * One SSH connection to a target host (ssh2, pure JS): commands, channels
 * that stay open (the remote helper, QEMU), streams to a unix socket or a
 * loopback TCP port on the host (QMP, the guest's SSH, the Docker Engine),
 * and SFTP. Host keys are checked against known_hosts before anything is
 * sent (see known-hosts.ts). Keep-alives notice a dead peer within
 * ~KEEPALIVE_MS × KEEPALIVE_COUNT; after that every open channel fails and
 * `lost` says why.
 */

export const KEEPALIVE_MS = 2000;
export const KEEPALIVE_COUNT = 3;

export interface SshTarget {
  hostname: string;
  port: number;
  username: string;
  privateKey: string;
  /** known_hosts text and where it came from (for messages). */
  knownHosts: { text: string; file: string };
  /** false: connect whatever key the host shows (recorded, never checked). */
  strict: boolean;
  readyTimeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** One argument, single-quoted for a POSIX shell (what sshd hands every command to). */
export function shq(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** argv as one shell command line, every argument quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}

export class SshConnection {
  /** Why the connection ended, once it has (null while it is up). */
  lost: string | null = null;
  private readonly closeHandlers = new Set<(why: string) => void>();
  /** Every channel open on this connection: ended with it, so no reader waits on a dead one (a kept-alive HTTP socket, QMP). */
  private readonly channels = new Set<Duplex>();

  private constructor(
    private readonly client: Client,
    readonly target: Omit<SshTarget, 'privateKey'>,
    /** The host key the server presented. */
    readonly hostKey: { type: string; fingerprint: string; checked: boolean },
    /** ms from connect() to an authenticated session. */
    readonly connectMs: number,
  ) {
    const end = (why: string) => {
      if (this.lost !== null) return;
      this.lost = why;
      for (const ch of this.channels) ch.destroy(new Error(`ssh connection lost: ${why}`));
      this.channels.clear();
      for (const h of this.closeHandlers) h(why);
    };
    client.on('error', (err) => end(`connection error: ${messageOf(err)}`));
    client.on('close', () => end('connection closed'));
    client.on('end', () => end('connection ended'));
  }

  get label(): string {
    return `${this.target.username}@${knownHostsName(this.target.hostname, this.target.port)}`;
  }

  /** Connect, checking the host key; BenchError('infrastructure') with the reason otherwise. */
  static async connect(t: SshTarget): Promise<SshConnection> {
    const name = knownHostsName(t.hostname, t.port);
    const known = knownKeysFor(t.knownHosts.text, t.hostname, t.port);
    let seen: { type: string; fingerprint: string; checked: boolean } | null = null;
    let refused: string | null = null;
    const client = new Client();
    const types = [...new Set(known.filter((k) => !k.revoked).map((k) => k.type))];
    const config: ConnectConfig = {
      host: t.hostname,
      port: t.port,
      username: t.username,
      privateKey: t.privateKey,
      readyTimeout: t.readyTimeoutMs ?? 15_000,
      keepaliveInterval: KEEPALIVE_MS,
      keepaliveCountMax: KEEPALIVE_COUNT,
      // Ask for a key type known_hosts has, as ssh does, so a listed host is not refused for showing another type.
      ...(types.length && t.strict ? { algorithms: { serverHostKey: types as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
      hostVerifier: (key: Buffer) => {
        const verdict = checkHostKey(known, key, name, t.knownHosts.file);
        seen = { type: verdict.type ?? blobKeyType(key) ?? 'unknown', fingerprint: verdict.fingerprint, checked: t.strict };
        if (verdict.ok || !t.strict) return true;
        refused = verdict.reason;
        return false;
      },
    };
    const t0 = performance.now();
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', reject);
        client.connect(config);
      });
    } catch (err) {
      client.end();
      if (refused) {
        throw new BenchError('infrastructure', `ssh ${t.username}@${name}: host key check failed: ${refused}`, {
          hint: `check the key (ssh-keyscan -p ${t.port} ${t.hostname}) and add it to ${t.knownHosts.file}; strict_host_key_checking: false skips the check (never for a host you do not control)`,
        });
      }
      throw new BenchError('infrastructure', `ssh ${t.username}@${name}: ${messageOf(err)}`, { cause: err, hint: 'check the URL, that sshd answers there, and that the key is authorized for that user' });
    }
    const { privateKey: _k, ...rest } = t;
    return new SshConnection(client, rest, seen ?? { type: 'unknown', fingerprint: 'unknown', checked: false }, performance.now() - t0);
  }

  onClose(handler: (why: string) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Track a channel until it closes. */
  private track<T extends Duplex>(ch: T): T {
    this.channels.add(ch);
    ch.once('close', () => this.channels.delete(ch));
    // A destroyed channel reports its error to whoever reads it; nobody reading must not crash the process.
    ch.on('error', () => undefined);
    return ch;
  }

  private gone(what: string): BenchError {
    return new BenchError('infrastructure', `ssh ${this.label}: ${what}: ${this.lost ?? 'not connected'}`, { category: 'host_unreachable' });
  }

  private fail(what: string, err: unknown): BenchError {
    if (this.lost !== null) return this.gone(what);
    return new BenchError('infrastructure', `ssh ${this.label}: ${what}: ${messageOf(err)}`, { cause: err });
  }

  /** A channel running `command` (a shell line: quote arguments with shellLine()). */
  spawn(command: string, setup?: (channel: ClientChannel) => void): Promise<ClientChannel> {
    if (this.lost !== null) return Promise.reject(this.gone(`cannot run ${command.slice(0, 60)}`));
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) return reject(this.fail(`cannot run ${command.slice(0, 60)}`, err));
        // Listeners go on here, synchronously: ssh2 can parse the exec reply, the output, exit-status and
        // close from one TCP read, emitting them before an awaiting caller's continuation runs (seen under
        // 20 concurrent execs: empty stdout and no exit code).
        setup?.(channel);
        resolve(this.track(channel));
      });
    });
  }

  /** Run a command to its end; with timeoutMs the channel is closed when it takes longer (and this throws). */
  async exec(command: string, opts: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const t0 = performance.now();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let code: number | null = null;
    let signal: string | null = null;
    let closed: (() => void) | null = null;
    let isClosed = false;
    const channel = await this.spawn(command, (ch) => {
      ch.on('data', (c: Buffer) => out.push(c));
      ch.stderr.on('data', (c: Buffer) => err.push(c));
      ch.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s ?? null;
      });
      ch.on('close', () => {
        isClosed = true;
        closed?.();
      });
    });
    return new Promise<ExecResult>((resolve, reject) => {
      const timer =
        opts.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              channel.close();
              reject(new BenchError('infrastructure', `ssh ${this.label}: timed out after ${opts.timeoutMs} ms: ${command.slice(0, 120)}`));
            }, opts.timeoutMs);
      const offClose = this.onClose(() => {
        clearTimeout(timer);
        reject(this.gone(`lost while running ${command.slice(0, 60)}`));
      });
      closed = () => {
        clearTimeout(timer);
        offClose();
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), wallMs: performance.now() - t0 });
      };
      if (isClosed) closed();
      else if (opts.stdin !== undefined) channel.end(opts.stdin);
      else channel.end();
    });
  }

  /** exec() that throws unless the command exits 0. */
  async run(command: string, opts: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      throw new BenchError('infrastructure', `ssh ${this.label}: \`${command.slice(0, 160)}\` exited ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    }
    return r.stdout;
  }

  /** A stream to a unix socket on the host (OpenSSH's direct-streamlocal; sshd's AllowStreamLocalForwarding, default yes). */
  openUnix(path: string): Promise<Duplex> {
    if (this.lost !== null) return Promise.reject(this.gone(`cannot open ${path}`));
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(path, (err, channel) => (err ? reject(this.fail(`cannot open unix socket ${path}`, err)) : resolve(this.track(channel))));
    });
  }

  /** A stream to 127.0.0.1:port on the host (direct-tcpip; sshd's AllowTcpForwarding, default yes). */
  openLoopback(port: number): Promise<Duplex> {
    if (this.lost !== null) return Promise.reject(this.gone(`cannot open 127.0.0.1:${port}`));
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, channel) => (err ? reject(this.fail(`cannot reach 127.0.0.1:${port} on the host`, err)) : resolve(this.track(channel))));
    });
  }

  /** Copy a local file to a path on the host (SFTP). */
  async upload(localPath: string, remotePath: string): Promise<void> {
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, s) => (err ? reject(this.fail('sftp', err)) : resolve(s)));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        sftp.fastPut(localPath, remotePath, { concurrency: 16, chunkSize: 256 * 1024 }, (err) => (err ? reject(this.fail(`upload of ${localPath} to ${remotePath}`, err)) : resolve()));
      });
    } finally {
      sftp.end();
    }
  }

  close(): void {
    if (this.lost === null) this.lost = 'closed by vmbench';
    this.client.end();
  }
}
