import { BenchError } from './errors.js';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest directory above this module holding package.json. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new BenchError('infrastructure', 'vmbench: cannot find the project root (package.json)');
    dir = up;
  }
}

/**
 * Where built artifacts, the apt package cache and per-run scratch space live.
 * Defaults to <project>/.bench (git-ignored); VMBENCH_CACHE_DIR overrides it.
 * Passed explicitly to whatever needs it (no module-level globals elsewhere).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.VMBENCH_CACHE_DIR ?? join(projectRoot(), '.bench'));
}

/** Source directory of the workload server files copied verbatim into the rootfs. */
export function serverSourceDir(): string {
  return join(projectRoot(), 'src', 'workload', 'server');
}
