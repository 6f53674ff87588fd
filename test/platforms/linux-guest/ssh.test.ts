import { execFileSync } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import { pickFreePort } from '../../../src/platforms/host/ports.js';
import { connectSsh, generateSshKeyPair, writeSshKeyPair } from '../../../src/platforms/linux-guest/ssh.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vmbench-ssh-test-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function parsed(text: string): ssh2.ParsedKey {
  const k = ssh2.utils.parseKey(text);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? k[0]! : k;
}

describe('ed25519 key generation', () => {
  it('produces an authorized_keys line and an OpenSSH private key ssh2 accepts', () => {
    const k = generateSshKeyPair('vmbench-r1-i0');
    expect(k.publicKeyLine).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+={0,2} vmbench-r1-i0$/);
    expect(k.privateKeyOpenSsh.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----\n')).toBe(true);
    expect(k.privateKeyOpenSsh.endsWith('-----END OPENSSH PRIVATE KEY-----\n')).toBe(true);
    const priv = parsed(k.privateKeyOpenSsh);
    const pub = parsed(k.publicKeyLine);
    expect(priv.type).toBe('ssh-ed25519');
    expect(pub.type).toBe('ssh-ed25519');
    expect(priv.getPublicSSH().equals(pub.getPublicSSH())).toBe(true);
    // It signs, and the signature verifies with the public half.
    const data = Buffer.from('hello');
    const sig = priv.sign(data);
    expect(sig).toBeInstanceOf(Buffer);
    expect(pub.verify(data, sig as Buffer)).toBe(true);
  });

  it('every pair is different', () => {
    expect(generateSshKeyPair().publicKeyLine).not.toBe(generateSshKeyPair().publicKeyLine);
  });

  it('writes the private key with mode 0600', async () => {
    const d = tmp();
    const k = await writeSshKeyPair(d, 'id_ed25519', 'c');
    expect(statSync(k.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(statSync(k.publicKeyPath).mode & 0o022).toBe(0); // not group/world writable
  });

  it('OpenSSH derives the same public key from the private file', async () => {
    const d = tmp();
    const k = await writeSshKeyPair(d, 'id_ed25519', 'vmbench');
    const out = execFileSync('ssh-keygen', ['-y', '-f', k.privateKeyPath], { encoding: 'utf8' }).trim();
    expect(out).toBe(k.publicKeyLine);
  });
});

/** A tiny SSH server on 127.0.0.1 (ssh2's own Server) accepting one public key and running `echo`-like commands. */
function startServer(port: number, allowed: string, hostKey: string): Promise<ssh2.Server> {
  const allowedKey = parsed(allowed);
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (
        ctx.method === 'publickey' &&
        ctx.key.algo === allowedKey.type &&
        ctx.key.data.length === allowedKey.getPublicSSH().length &&
        timingSafeEqual(ctx.key.data, allowedKey.getPublicSSH()) &&
        (!ctx.signature || (ctx.blob && allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true))
      ) {
        ctx.accept();
      } else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.once('exec', (acc, _rej, info) => {
          const stream = acc();
          if (info.command === 'fail') {
            stream.stderr.write('boom\n');
            stream.exit(3);
          } else {
            stream.write(`ran: ${info.command}\n`);
            stream.exit(0);
          }
          stream.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('connectSsh', () => {
  it('retries until the server listens, then execs with exit codes and wall time', async () => {
    const d = tmp();
    const key = await writeSshKeyPair(d);
    const host = generateSshKeyPair('host');
    const port = await pickFreePort();
    let server: ssh2.Server | undefined;
    const later = setTimeout(() => {
      void startServer(port, key.publicKeyLine, host.privateKeyOpenSsh).then((s) => (server = s));
    }, 400);
    try {
      const s = await connectSsh({ port, privateKeyPath: key.privateKeyPath, timeoutMs: 10_000, retryIntervalMs: 50 });
      expect(s.attempts).toBeGreaterThan(1);
      expect(s.connectMs).toBeGreaterThanOrEqual(300);
      const r = await s.exec('cat /etc/vmbench/rootfs.sha256');
      expect(r).toMatchObject({ stdout: 'ran: cat /etc/vmbench/rootfs.sha256\n', code: 0 });
      expect(r.wallMs).toBeGreaterThan(0);
      const f = await s.exec('fail');
      expect(f.code).toBe(3);
      expect(f.stderr).toBe('boom\n');
      s.dispose();
    } finally {
      clearTimeout(later);
      server?.close();
    }
  });

  it('fails fast with a wrong key, and on the deadline with nothing listening', async () => {
    const d = tmp();
    const good = await writeSshKeyPair(d, 'good');
    const bad = await writeSshKeyPair(d, 'bad');
    const host = generateSshKeyPair('host');
    const port = await pickFreePort();
    const server = await startServer(port, good.publicKeyLine, host.privateKeyOpenSsh);
    try {
      const t0 = performance.now();
      await expect(connectSsh({ port, privateKeyPath: bad.privateKeyPath, timeoutMs: 20_000 })).rejects.toThrow(
        /authentication/i,
      );
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      server.close();
    }
    const closed = await pickFreePort([port]);
    const t1 = performance.now();
    await expect(connectSsh({ port: closed, privateKeyPath: good.privateKeyPath, timeoutMs: 600 })).rejects.toThrow(BenchError);
    expect(performance.now() - t1).toBeLessThan(3000);
  });

  it('refuses anything but 127.0.0.1', async () => {
    await expect(
      connectSsh({ host: '10.0.0.1' as '127.0.0.1', port: 22, privateKey: 'x', timeoutMs: 100 }),
    ).rejects.toThrow(/127\.0\.0\.1/);
  });
});
