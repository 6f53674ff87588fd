import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, hostFieldMatches, keyFingerprint, knownHostsName, knownKeysFor } from '../../../src/platforms/remote/known-hosts.js';

const blob = (type: string, body: string) => {
  const s = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([s(Buffer.from(type)), s(Buffer.from(body))]);
};
const A = blob('ssh-ed25519', 'a'.repeat(32));
const B = blob('ssh-ed25519', 'b'.repeat(32));
const hashed = (name: string) => {
  const salt = Buffer.from('0123456789abcdefghij');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

describe('known_hosts', () => {
  it('names a host as ssh does', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('matches plain, [host]:port, patterns, negations and hashed entries', () => {
    expect(hostFieldMatches('a,h,b', 'h')).toBe(true);
    expect(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2223')).toBe(false);
    expect(hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
    expect(hostFieldMatches('*.lan', 'kvm.lan')).toBe(true);
    expect(hostFieldMatches('*.lan,!gpu.lan', 'gpu.lan')).toBe(false);
    expect(hostFieldMatches(hashed('[10.0.0.5]:2222'), '[10.0.0.5]:2222')).toBe(true);
    expect(hostFieldMatches(hashed('[10.0.0.5]:2222'), '10.0.0.5')).toBe(false);
  });

  it('accepts the listed key, refuses another and an unlisted host, and a revoked key', () => {
    const text = [
      '# comment',
      `[h]:2222 ssh-ed25519 ${A.toString('base64')} me@x`,
      `@cert-authority *.lan ssh-ed25519 ${B.toString('base64')}`,
      `other ssh-ed25519 ${B.toString('base64')}`,
      `@revoked [bad]:22 ssh-ed25519 ${B.toString('base64')}`,
      `bad ssh-ed25519 ${B.toString('base64')}`,
    ].join('\n');
    const known = knownKeysFor(text, 'h', 2222);
    expect(known).toHaveLength(1);
    expect(checkHostKey(known, A, '[h]:2222', 'kh')).toMatchObject({ ok: true, type: 'ssh-ed25519', fingerprint: keyFingerprint(A) });
    const wrong = checkHostKey(known, B, '[h]:2222', 'kh');
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.reason).toMatch(/NOT the one kh lists.*man-in-the-middle/);
    const unknown = checkHostKey(knownKeysFor(text, 'nowhere', 22), A, 'nowhere', 'kh');
    expect(!unknown.ok && unknown.reason).toMatch(/nowhere is not in kh/);
    // cert-authority lines are not host keys
    expect(knownKeysFor(text, 'x.lan', 22)).toEqual([]);
  });

  it('a fingerprint is OpenSSH SHA256:base64 without padding', () => {
    expect(keyFingerprint(A)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
