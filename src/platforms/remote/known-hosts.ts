import { createHash, createHmac } from 'node:crypto';

/**
 * Host key checking against an OpenSSH known_hosts file, as `ssh` does it
 * with StrictHostKeyChecking=yes: the host (as `host`, or `[host]:port` off
 * port 22) must be listed — plainly, by a pattern, or hashed (`|1|salt|hash`,
 * HMAC-SHA1) — with exactly the key the server shows; a key marked
 * @revoked is refused even if listed again. Pure: the file's text comes in.
 */

export interface KnownKey {
  /** e.g. "ssh-ed25519" */
  type: string;
  /** The key's wire-format blob (base64-decoded third field). */
  blob: Buffer;
  revoked: boolean;
}

/** How `ssh` names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(hostname: string, port: number): string {
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/** OpenSSH's fingerprint of a key blob: "SHA256:" + unpadded base64 of its SHA-256. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether one host-name field entry (plain, pattern or hashed) names `name`. */
function entryMatches(entry: string, name: string): boolean {
  if (entry.startsWith('|1|')) {
    const [, , salt, hash] = entry.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return globToRegExp(entry).test(name);
}

/** Whether a comma-separated host field names `name` (a negated pattern that matches excludes it). */
export function hostFieldMatches(field: string, name: string): boolean {
  let matched = false;
  for (const entry of field.split(',')) {
    if (entry.startsWith('!')) {
      if (entryMatches(entry.slice(1), name)) return false;
    } else if (entryMatches(entry, name)) matched = true;
  }
  return matched;
}

/** The keys known_hosts lists for a host (certificate authorities are not supported and left out). */
export function knownKeysFor(text: string, hostname: string, port: number): KnownKey[] {
  const name = knownHostsName(hostname, port);
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | null = null;
    if (fields[0]?.startsWith('@')) marker = fields.shift()!;
    if (marker === '@cert-authority') continue;
    const [hosts, type, b64] = fields;
    if (!hosts || !type || !b64) continue;
    if (!hostFieldMatches(hosts, name)) continue;
    out.push({ type, blob: Buffer.from(b64, 'base64'), revoked: marker === '@revoked' });
  }
  return out;
}

/** The key type inside a wire-format blob (its first SSH string). */
export function blobKeyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len <= 0 || 4 + len > blob.length) return null;
  return blob.subarray(4, 4 + len).toString('latin1');
}

export type HostKeyVerdict =
  | { ok: true; fingerprint: string; type: string }
  | { ok: false; fingerprint: string; type: string; reason: string };

/** Judge the key a server presented against what known_hosts says about it. */
export function checkHostKey(known: KnownKey[], presented: Buffer, name: string, file: string): HostKeyVerdict {
  const fingerprint = keyFingerprint(presented);
  const type = blobKeyType(presented) ?? 'unknown';
  if (known.some((k) => k.revoked && k.blob.equals(presented))) {
    return { ok: false, fingerprint, type, reason: `the ${type} key ${fingerprint} of ${name} is marked @revoked in ${file}` };
  }
  if (known.some((k) => !k.revoked && k.blob.equals(presented))) return { ok: true, fingerprint, type };
  if (known.length === 0) {
    return { ok: false, fingerprint, type, reason: `${name} is not in ${file} (it presented the ${type} key ${fingerprint})` };
  }
  return {
    ok: false,
    fingerprint,
    type,
    reason: `the ${type} key ${fingerprint} that ${name} presented is NOT the one ${file} lists for it (${known.map((k) => keyFingerprint(k.blob)).join(', ')}): possibly a man-in-the-middle, or the host was reinstalled`,
  };
}
