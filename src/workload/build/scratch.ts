import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { BenchError } from '../../errors.js';
import { runCommand } from './exec.js';

/** A fresh scratch directory under <cacheDir>/tmp (same filesystem as the outputs, so renames are atomic). */
export async function makeScratchDir(cacheDir: string, prefix: string): Promise<string> {
  const base = join(cacheDir, 'tmp');
  await mkdir(base, { recursive: true });
  return mkdtemp(join(base, `${prefix}-`));
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = resolve(dir);
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mp = field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === root || mp.startsWith(root + sep)) points.push(mp);
  }
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Remove a scratch directory. Anything still mounted below it (debootstrap
 * mounts proc/sys, sometimes binds /dev) is unmounted first; if that fails the
 * directory is left alone rather than deleting through a mount.
 */
export async function removeScratchDir(dir: string): Promise<void> {
  for (const mp of await mountsUnder(dir)) {
    await runCommand('umount', ['-l', mp], { what: `unmounting ${mp}` }).catch(() => undefined);
  }
  const left = await mountsUnder(dir);
  if (left.length) {
    throw new BenchError('infrastructure', `cannot remove ${dir}: still mounted: ${left.join(', ')}`, {
      hint: `unmount them (umount -l <path>) and delete ${dir}`,
    });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 2 });
}
