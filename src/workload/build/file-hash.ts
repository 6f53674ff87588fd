import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** Hex sha256 of a file's content. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256Text(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of a value's canonical JSON (object keys sorted). */
export function sha256Json(value: unknown): string {
  return sha256Text(canonicalJson(value));
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/**
 * File hashes remembered by (path, size, mtime, inode) in <cacheDir>/file-hashes.json,
 * so that hashing the 95 MB node binary and the model costs nothing on a cache hit.
 */
export class FileHashCache {
  private entries: Record<string, Entry> = {};
  private loaded = false;
  private dirty = false;
  readonly file: string;

  constructor(cacheDir: string) {
    this.file = join(cacheDir, 'file-hashes.json');
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object') this.entries = parsed as Record<string, Entry>;
    } catch {
      this.entries = {};
    }
  }

  async hash(path: string): Promise<{ sha256: string; size: number }> {
    await this.load();
    const abs = resolve(path);
    const st = await stat(abs);
    const hit = this.entries[abs];
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) {
      return { sha256: hit.sha256, size: st.size };
    }
    const sha256 = await sha256File(abs);
    this.entries[abs] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
    this.dirty = true;
    return { sha256, size: st.size };
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.entries));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}
