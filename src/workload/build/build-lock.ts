import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../errors.js';
import { removeScratchDir } from './scratch.js';

export const LOCK_FILE = 'build.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One build at a time per cache directory: an O_EXCL lock file holding the
 * builder's pid (a dead holder's lock is taken over). While it is held, the
 * scratch area <cacheDir>/tmp belongs to the holder, so leftovers of a killed
 * build are removed on entry.
 */
export async function withBuildLock<T>(cacheDir: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  await mkdir(cacheDir, { recursive: true });
  const path = join(cacheDir, LOCK_FILE);
  const t0 = Date.now();
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new BenchError('infrastructure', `another artifact build (pid ${holder}) holds ${path}`, {
          hint: `wait for it, or remove ${path} if no build is running`,
        });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    const tmp = join(cacheDir, 'tmp');
    for (const name of await readdir(tmp).catch(() => [] as string[])) await removeScratchDir(join(tmp, name));
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * `bench gc`: the scratch area of a build whose builder is gone (SIGKILL
 * mid-build). Taken under the lock, so a live build's scratch is never
 * touched: if a live process holds it, nothing is removed. Returns the
 * entries removed (or that would be, with dryRun).
 */
export async function sweepDeadBuildScratch(cacheDir: string, dryRun = false): Promise<string[]> {
  const path = join(cacheDir, LOCK_FILE);
  const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) return [];
  const tmp = join(cacheDir, 'tmp');
  const names = await readdir(tmp).catch(() => [] as string[]);
  if (dryRun || names.length === 0) return names;
  return withBuildLock(cacheDir, async () => names, 5_000); // taking the lock sweeps <cacheDir>/tmp
}
