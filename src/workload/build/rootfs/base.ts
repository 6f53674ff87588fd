import { access, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../../errors.js';
import type { DebianMirror } from './apt-sources.js';
import { commandError, runCommand } from '../exec.js';
import { FIXED_MTIME_S } from './digest.js';
import { sha256Json } from '../file-hash.js';
import { cachedStep, timedStep, type ProgressFn } from '../progress.js';
import { makeScratchDir, removeScratchDir } from '../scratch.js';

/** Bump when the base recipe (packages, stripping) changes: it renames every base tarball. */
export const BASE_VERSION = 'vmbench-base-2';
export const BASE_VARIANT = 'minbase';
/** SSH for the VM (dropbear, with openssh's sftp-server for SFTP). Nothing else: node brings its own runtime. */
export const BASE_PACKAGES = ['dropbear-bin', 'openssh-sftp-server'] as const;
export const BASE_ARCH = 'amd64';

/** Guest directories emptied after debootstrap (docs, manuals, translations, apt state, logs, device nodes). */
export const BASE_STRIP_DIRS = [
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'usr/lib/x86_64-linux-gnu/gconv', // iconv charset modules (8 MB); nothing in the guest converts charsets
  'var/lib/apt/lists',
  'var/cache/apt',
  'var/log',
  'dev',
  'tmp',
  'run',
  'debootstrap',
] as const;
/** Files removed: host facts debootstrap copies in, and dpkg backups. */
export const BASE_STRIP_FILES = [
  'etc/hostname',
  'etc/resolv.conf',
  'etc/machine-id',
  'var/lib/dbus/machine-id',
  'var/lib/dpkg/status-old',
  'var/lib/dpkg/diversions-old',
  'var/lib/dpkg/statoverride-old',
  'var/cache/debconf/config.dat-old',
  'var/cache/debconf/templates.dat-old',
] as const;

export interface BaseSpec {
  suite: string;
  mirror: string;
  arch: string;
  variant: string;
  packages: readonly string[];
  version: string;
}

export function baseSpec(mirror: DebianMirror): BaseSpec {
  return {
    suite: mirror.suite,
    mirror: mirror.uri,
    arch: BASE_ARCH,
    variant: BASE_VARIANT,
    packages: [...BASE_PACKAGES],
    version: BASE_VERSION,
  };
}

export function baseHash(spec: BaseSpec): string {
  return sha256Json({ ...spec, strip: [...BASE_STRIP_DIRS, ...BASE_STRIP_FILES] });
}

export function basePath(cacheDir: string, hash: string): string {
  return join(cacheDir, 'base', `${hash}.tar`);
}

export interface BaseResult {
  hash: string;
  tarball: string;
  bytes: number;
  cached: boolean;
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new BenchError('unsupported', `${what} needs root (debootstrap, file ownership in the image)`, {
      hint: 'run the build as root (sudo)',
    });
  }
}

async function emptyDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) await rm(join(dir, n), { recursive: true, force: true });
}

/**
 * The debootstrapped base tarball (<cacheDir>/base/<hash>.tar), built once per
 * (suite, mirror, package list, recipe version); apt's downloads persist in
 * <cacheDir>/apt-cache so a rebuild does not download again.
 */
export async function ensureBase(
  cacheDir: string,
  spec: BaseSpec,
  opts: { onProgress?: ProgressFn; force?: boolean; mustHave?: string } = {},
): Promise<BaseResult> {
  const hash = baseHash(spec);
  const tarball = basePath(cacheDir, hash);
  if (!opts.force) {
    const st = await stat(tarball).catch(() => undefined);
    if (st) {
      cachedStep(opts.onProgress, 'base', `${spec.suite} ${hash.slice(0, 12)}`);
      return { hash, tarball, bytes: st.size, cached: true };
    }
  }
  requireRoot('building the base rootfs');
  const aptCache = join(cacheDir, 'apt-cache');
  await mkdir(aptCache, { recursive: true });
  await mkdir(join(cacheDir, 'base'), { recursive: true });
  const scratch = await makeScratchDir(cacheDir, 'base');
  try {
    const target = join(scratch, 'rootfs');
    await timedStep(opts.onProgress, 'debootstrap', `${spec.variant} ${spec.suite} from ${spec.mirror}`, async () => {
      const args = [
        `--variant=${spec.variant}`,
        `--arch=${spec.arch}`,
        `--include=${spec.packages.join(',')}`,
        `--cache-dir=${aptCache}`,
        spec.suite,
        target,
        spec.mirror,
      ];
      try {
        await runCommand('debootstrap', args, { what: 'building the base rootfs' });
      } catch (err) {
        const log = await readFile(join(target, 'debootstrap/debootstrap.log'), 'utf8').catch(() => '');
        const tail = log.trim().split('\n').slice(-10).join('\n');
        if (err instanceof BenchError && /not found/.test(err.message)) throw err;
        throw new BenchError('infrastructure', `debootstrap ${spec.suite} from ${spec.mirror} failed${tail ? `:\n${tail}` : ''}`, {
          hint: `check that ${spec.mirror} is reachable (apt-get update works), then re-run the build`,
          cause: err,
        });
      }
    });
    for (const d of BASE_STRIP_DIRS) await emptyDir(join(target, d));
    await rm(join(target, 'debootstrap'), { recursive: true, force: true });
    for (const f of BASE_STRIP_FILES) await rm(join(target, f), { force: true });
    // The one file the caller cannot do without (the workload base: dropbear; another base: its own).
    const mustHave = opts.mustHave ?? 'usr/sbin/dropbear';
    await access(join(target, mustHave)).catch((err: unknown) => {
      throw new BenchError('infrastructure', `debootstrap finished but the base has no /${mustHave}`, {
        hint: `check that the mirror carries ${spec.packages.join(', ')} for this release`,
        cause: err,
      });
    });
    const tmp = `${tarball}.${process.pid}.tmp`;
    await runCommand(
      'tar',
      ['--numeric-owner', '--sort=name', `--mtime=@${FIXED_MTIME_S}`, '--format=gnu', '-C', target, '-cf', tmp, '.'],
      { what: 'tar (base rootfs)' },
    ).catch(async (err: unknown) => {
      await rm(tmp, { force: true });
      throw err instanceof BenchError ? err : commandError('tar', 'tar (base rootfs)', err);
    });
    await rename(tmp, tarball);
    const st = await stat(tarball);
    return { hash, tarball, bytes: st.size, cached: false };
  } finally {
    await removeScratchDir(scratch);
  }
}
