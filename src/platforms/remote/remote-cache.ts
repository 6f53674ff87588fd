import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { BenchError } from '../../errors.js';
import { shellLine, shq, type SshConnection } from './ssh-connection.js';

/**
 * Files a host needs (the VM disk, kernel and initramfs, the helper, a Node
 * binary), copied there once and kept by content digest:
 *
 *   <work_dir>/cas/<sha256>/<name>            the file
 *   <work_dir>/cas/<sha256>/<name>.verified   written only after sha256sum on the host matched
 *
 * A file is uploaded under a temporary name, its digest computed ON THE HOST
 * (what arrived, not what was sent), and only then renamed into place, so an
 * interrupted or corrupted copy is never used. Two runs uploading at once
 * each use their own temporary name; the rename is atomic.
 */

const localDigests = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** sha256 of a local file, remembered per path while size and mtime stay the same. */
export async function localSha256(path: string): Promise<string> {
  const st = await stat(path);
  const known = localDigests.get(path);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const sha256 = h.digest('hex');
  localDigests.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

export interface RemoteFile {
  path: string;
  sha256: string;
  bytes: number;
  /** false: it was there already (verified on an earlier arrival). */
  uploaded: boolean;
  /** Upload + verification wall time, ms (0 on a hit). */
  ms: number;
}

/** The first field of `sha256sum` output. */
export function parseSha256sum(out: string): string | null {
  const m = /^([0-9a-f]{64})\b/.exec(out.trim());
  return m ? m[1]! : null;
}

export async function ensureRemoteFile(conn: SshConnection, workDir: string, localPath: string, name = basename(localPath)): Promise<RemoteFile> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new BenchError('internal', `remote cache: bad file name ${JSON.stringify(name)}`);
  const [sha256, st] = await Promise.all([localSha256(localPath), stat(localPath)]);
  const dir = `${workDir}/cas/${sha256}`;
  const path = `${dir}/${name}`;
  const hit = await conn.exec(`test -f ${shq(`${path}.verified`)} && stat -c %s ${shq(path)}`);
  if (hit.code === 0 && Number(hit.stdout.trim()) === st.size) return { path, sha256, bytes: st.size, uploaded: false, ms: 0 };
  const t0 = performance.now();
  const part = `${path}.part-${randomBytes(4).toString('hex')}`;
  await conn.run(shellLine(['mkdir', '-p', dir]));
  try {
    await conn.upload(localPath, part);
    const arrived = parseSha256sum(await conn.run(shellLine(['sha256sum', part]), { timeoutMs: 600_000 }));
    if (arrived !== sha256) {
      throw new BenchError('infrastructure', `${conn.label}: ${name} arrived with sha256 ${arrived ?? '?'}, sent ${sha256}: the copy is corrupt`, { hint: 'retry; a repeated mismatch points at the disk or the network of that host' });
    }
    await conn.run(`${shellLine(['mv', '-f', part, path])} && ${shellLine(['touch', `${path}.verified`])}`);
  } finally {
    await conn.exec(shellLine(['rm', '-f', part])).catch(() => undefined);
  }
  return { path, sha256, bytes: st.size, uploaded: true, ms: performance.now() - t0 };
}
