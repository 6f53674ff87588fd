import { access, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MARKER_FILE } from './instance.js';

/** Remove QEMU instance dirs (those with the marker file) of one run dir, and the run dir if it is then empty. */
export async function removeQemuRunDir(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(runDir);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const d = join(runDir, e);
    try {
      await access(join(d, MARKER_FILE));
    } catch {
      continue;
    }
    await rm(d, { recursive: true, force: true });
    removed.push(d);
  }
  try {
    await rmdir(runDir);
    removed.push(runDir);
  } catch {
    /* not empty: other platforms' files */
  }
  return removed;
}
