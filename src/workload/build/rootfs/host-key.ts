import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../exec.js';

/**
 * The guest's dropbear ed25519 host key, generated once per cache directory
 * (<cacheDir>/keys/) so that rebuilding the rootfs gives the same digest.
 */
export async function ensureHostKey(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, 'keys');
  const key = join(dir, 'dropbear_ed25519_host_key');
  if (await stat(key).catch(() => undefined)) return key;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${key}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await runCommand('dropbearkey', ['-t', 'ed25519', '-f', tmp], { what: 'dropbearkey (guest SSH host key)' });
  await rename(tmp, key);
  return key;
}
