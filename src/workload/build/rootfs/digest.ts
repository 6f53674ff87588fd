import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, lutimes, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GUEST_DIGEST_FILE } from '../../contract.js';

/** Fixed mtime (2000-01-01T00:00:00Z) given to every rootfs entry so tars and images are reproducible. */
export const FIXED_MTIME_S = 946_684_800;

/** Directories whose contents are runtime state, left out of the digest (the directories themselves count). */
export const VOLATILE_DIRS = ['dev', 'proc', 'sys', 'run', 'tmp'] as const;

export interface DigestOptions {
  /** Guest paths (absolute) left out entirely. Default: the digest file itself. */
  exclude?: readonly string[];
  /** Guest directories whose contents are left out. Default: VOLATILE_DIRS. */
  volatileDirs?: readonly string[];
}

/** One line of the listing the digest is computed over. */
export interface DigestEntry {
  path: string;
  line: string;
}

function typeChar(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000: return 'f';
    case 0o040000: return 'd';
    case 0o120000: return 'l';
    case 0o020000: return 'c';
    case 0o060000: return 'b';
    case 0o010000: return 'p';
    case 0o140000: return 's';
    default: return '?';
  }
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The sorted listing of every entry below `root`, one line each:
 *   <type> <mode, 4 octal digits> <uid>:<gid> <sha256 | -> target | rdev | -> <json path>
 * Timestamps are not part of it. Paths are guest paths (leading '/').
 */
export async function rootfsListing(root: string, opts: DigestOptions = {}): Promise<DigestEntry[]> {
  const exclude = new Set(opts.exclude ?? [GUEST_DIGEST_FILE]);
  const volatile = new Set((opts.volatileDirs ?? VOLATILE_DIRS).map((d) => `/${d.replace(/^\/+/, '')}`));
  const out: DigestEntry[] = [];
  const walk = async (guestDir: string, hostDir: string): Promise<void> => {
    const names = (await readdir(hostDir)).sort(byteCompare);
    for (const name of names) {
      const guest = guestDir === '/' ? `/${name}` : `${guestDir}/${name}`;
      if (exclude.has(guest)) continue;
      const host = join(hostDir, name);
      const st = await lstat(host);
      const t = typeChar(st.mode);
      let extra: string;
      if (t === 'f') extra = await hashFile(host);
      else if (t === 'l') extra = `-> ${JSON.stringify(await readlink(host))}`;
      else if (t === 'c' || t === 'b') extra = `rdev=${st.rdev}`;
      else extra = '-';
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      out.push({ path: guest, line: `${t} ${mode} ${st.uid}:${st.gid} ${extra} ${JSON.stringify(guest)}` });
      if (t === 'd' && !volatile.has(guest)) await walk(guest, host);
    }
  };
  await walk('/', root);
  return out;
}

/** Hex sha256 over the rootfs listing (see rootfsListing). */
export async function computeRootfsDigest(root: string, opts: DigestOptions = {}): Promise<string> {
  const h = createHash('sha256');
  for (const e of await rootfsListing(root, opts)) h.update(`${e.line}\n`);
  return h.digest('hex');
}

/** Give every entry below (and including) `root` the same mtime/atime, without following symlinks. */
export async function fixMtimes(root: string, seconds = FIXED_MTIME_S): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) await walk(p);
      await lutimes(p, seconds, seconds);
    }
  };
  await walk(root);
  await lutimes(root, seconds, seconds);
}
