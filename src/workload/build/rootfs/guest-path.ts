import { BenchError } from '../../../errors.js';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Host path of `guestPath` inside the tree at `root`, following symlinks the
 * way the guest would (absolute targets are relative to `root`), so that a
 * write never escapes the tree. The last component is not followed when
 * `followLast` is false (for replacing a symlink itself).
 */
export async function hostPathIn(root: string, guestPath: string, followLast = true): Promise<string> {
  const parts = guestPath.split('/').filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = parts.length === 0;
    const st = await lstat(candidate).catch(() => undefined);
    if (st?.isSymbolicLink() && (followLast || !isLast)) {
      if (++hops > 40) throw new BenchError('infrastructure', `too many symlinks resolving ${guestPath} in ${root}`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
