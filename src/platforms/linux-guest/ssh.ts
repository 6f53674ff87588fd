import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { BenchError, messageOf } from '../../errors.js';

/**
 * SSH to a guest on 127.0.0.1 (QEMU user-net hostfwd, Vagrant forwarded ports)
 * through node-ssh (ssh2's pure-JS path), plus per-run ed25519 key generation.
 *
 * ssh2 1.x parses ed25519 private keys only in the OpenSSH format
 * ("-----BEGIN OPENSSH PRIVATE KEY-----"); node:crypto cannot write that format
 * (PKCS8 PEM only, which ssh2 rejects for ed25519), so it is assembled here.
 */

// ---------------------------------------------------------------------------
// Keys

export interface SshKeyPair {
  /** One authorized_keys line: 'ssh-ed25519 AAAA… comment'. */
  publicKeyLine: string;
  /** OpenSSH-format private key (unencrypted), as written to disk. */
  privateKeyOpenSsh: string;
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Generate an ed25519 key pair in OpenSSH formats (authorized_keys line + private key file). */
export function generateSshKeyPair(comment = 'vmbench'): SshKeyPair {
  if (/[\r\n]/.test(comment)) throw new BenchError('internal', 'ssh key comment must be one line');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pubJwk = publicKey.export({ format: 'jwk' });
  const privJwk = privateKey.export({ format: 'jwk' });
  if (!pubJwk.x || !privJwk.d) throw new BenchError('internal', 'ed25519 JWK export lacks x/d');
  const pub = Buffer.from(pubJwk.x, 'base64url');
  const seed = Buffer.from(privJwk.d, 'base64url');
  if (pub.length !== 32 || seed.length !== 32) {
    throw new BenchError('internal', `unexpected ed25519 key sizes (${pub.length}/${seed.length})`);
  }
  const keyType = 'ssh-ed25519';
  const pubBlob = Buffer.concat([sshString(keyType), sshString(pub)]);

  // Private section: checkint ×2, key type, public key, seed‖public, comment, padding 1,2,3…
  const check = randomBytes(4).readUInt32BE(0);
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(keyType),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);

  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // number of keys
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return {
    publicKeyLine: `${keyType} ${pubBlob.toString('base64')} ${comment}`,
    privateKeyOpenSsh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

export interface WrittenKeyPair extends SshKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
}

/** Generate a key pair and write it as <dir>/<name> (mode 0600) and <dir>/<name>.pub. */
export async function writeSshKeyPair(dir: string, name = 'id_ed25519', comment = 'vmbench'): Promise<WrittenKeyPair> {
  const pair = generateSshKeyPair(comment);
  const privateKeyPath = join(dir, name);
  const publicKeyPath = `${privateKeyPath}.pub`;
  await writeFile(privateKeyPath, pair.privateKeyOpenSsh, { mode: 0o600 });
  await chmod(privateKeyPath, 0o600); // in case the file existed or the umask interfered
  await writeFile(publicKeyPath, `${pair.publicKeyLine}\n`, { mode: 0o644 });
  return { ...pair, privateKeyPath, publicKeyPath };
}

// ---------------------------------------------------------------------------
// Sessions

export interface SshConnectOptions {
  /** Only loopback is ever a target. */
  host?: '127.0.0.1';
  port: number;
  username?: string;
  privateKeyPath?: string;
  /** Private key text (OpenSSH format); alternative to privateKeyPath. */
  privateKey?: string;
  /** Overall deadline for connecting, retries included. */
  timeoutMs: number;
  /** Pause between attempts (default 100 ms). */
  retryIntervalMs?: number;
  /** Cap on one attempt's handshake (default 3000 ms). */
  attemptTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Opens the transport for one attempt instead of a TCP connection from
   * here: a guest on a remote host is 127.0.0.1:port THERE, reached through
   * the host's SSH connection (remote/ssh-connection.ts openLoopback).
   */
  sock?: () => Promise<Duplex>;
}

export interface SshExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  /** Wall time of the exec round trip (channel open → exit), ms. */
  wallMs: number;
}

export class SshSession {
  constructor(
    private readonly ssh: NodeSSH,
    readonly port: number,
    /** ms from connectSsh() call to an authenticated session. */
    readonly connectMs: number,
    /** How many connection attempts it took. */
    readonly attempts: number,
  ) {}

  get connected(): boolean {
    return this.ssh.isConnected();
  }

  /**
   * Run a command. With timeoutMs, the session is torn down if the command has
   * not finished in time and a BenchError('infrastructure') is thrown.
   */
  async exec(command: string, opts: { timeoutMs?: number; stdin?: string } = {}): Promise<SshExecResult> {
    const t0 = performance.now();
    const run = this.ssh.execCommand(command, { stdin: opts.stdin, noTrim: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const res =
        opts.timeoutMs === undefined
          ? await run
          : await Promise.race([
              run,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  this.dispose();
                  reject(
                    new BenchError('infrastructure', `ssh command timed out after ${opts.timeoutMs} ms: ${command}`),
                  );
                }, opts.timeoutMs);
              }),
            ]);
      return { stdout: res.stdout, stderr: res.stderr, code: res.code, signal: res.signal, wallMs: performance.now() - t0 };
    } catch (err) {
      if (err instanceof BenchError) throw err;
      throw new BenchError('infrastructure', `ssh command failed: ${command}: ${messageOf(err)}`, { cause: err });
    } finally {
      if (timer) clearTimeout(timer);
      run.catch(() => undefined);
    }
  }

  /**
   * Send a command without waiting for it to finish (e.g. `poweroff`, which
   * takes the connection down with it). Resolves once the channel is open, or
   * after waitMs, whichever comes first.
   */
  async fire(command: string, waitMs = 1000): Promise<void> {
    const run = this.ssh.execCommand(command).catch(() => undefined);
    await Promise.race([run, new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  async putFile(localPath: string, remotePath: string): Promise<void> {
    await this.ssh.putFile(localPath, remotePath);
  }

  dispose(): void {
    try {
      this.ssh.dispose();
    } catch {
      /* already closed */
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Connect with public-key auth, retrying (refused, reset by a hostfwd with
 * nothing listening yet, handshake timeouts) until timeoutMs has passed.
 * Host keys are not verified: the only target is an ephemeral guest behind 127.0.0.1.
 */
export async function connectSsh(opts: SshConnectOptions): Promise<SshSession> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') {
    throw new BenchError('internal', `ssh target must be 127.0.0.1, got ${String(host)}`);
  }
  if (!opts.privateKey && !opts.privateKeyPath) {
    throw new BenchError('internal', 'connectSsh needs privateKey or privateKeyPath');
  }
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutMs;
  const interval = opts.retryIntervalMs ?? 100;
  const attemptCap = opts.attemptTimeoutMs ?? 3000;
  let attempts = 0;
  let lastErr: unknown;
  for (;;) {
    attempts++;
    const remaining = deadline - performance.now();
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host,
        port: opts.port,
        username: opts.username ?? 'root',
        privateKeyPath: opts.privateKey ? undefined : opts.privateKeyPath,
        privateKey: opts.privateKey,
        readyTimeout: Math.max(200, Math.min(attemptCap, remaining)),
        hostVerifier: () => true,
        keepaliveInterval: 0,
        ...(opts.sock ? { sock: await opts.sock() } : {}),
      });
      return new SshSession(ssh, opts.port, performance.now() - t0, attempts);
    } catch (err) {
      lastErr = err;
      try {
        ssh.dispose();
      } catch {
        /* ignore */
      }
      const msg = messageOf(err);
      // Authentication failures will not fix themselves.
      if (/All configured authentication methods failed|Cannot parse privateKey/i.test(msg)) {
        throw new BenchError('infrastructure', `ssh to 127.0.0.1:${opts.port}: ${msg}`, { cause: err });
      }
      if (performance.now() + interval >= deadline) break;
      await sleep(interval);
    }
  }
  throw new BenchError(
    'infrastructure',
    `ssh to 127.0.0.1:${opts.port} not possible within ${opts.timeoutMs} ms (${attempts} attempts): ${messageOf(lastErr)}`,
    { cause: lastErr },
  );
}
