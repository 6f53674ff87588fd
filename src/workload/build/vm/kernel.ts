import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../../errors.js';
import { execa } from 'execa';
import { commandError, runCommand } from '../exec.js';
import { modinfoDepends } from './modinfo.js';
import { sha256Json } from '../file-hash.js';
import { moduleName, parseModulesBuiltin, parseModulesDep, resolveModuleOrder, ROOT_FS_MODULE, WANTED_MODULES } from './modules.js';
import { cachedStep, timedStep, type ProgressFn } from '../progress.js';
import { makeScratchDir, removeScratchDir } from '../scratch.js';

/** The Debian metapackage that names the current cloud kernel. */
export const KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
const APT_LISTS = '/var/lib/apt/lists';

export interface KernelPackage {
  package: string;
  version: string;
}

/** A kernel extracted into <cacheDir>/kernel/<package>_<version>/ (kernel.json describes it). */
export interface KernelInfo extends KernelPackage {
  /** uname -r of that kernel, e.g. 6.1.0-56-cloud-amd64 */
  release: string;
  dir: string;
  vmlinuz: string;
  /** Modules to insmod, dependencies first; files are uncompressed .ko in <dir>/modules/. */
  modules: Array<{ name: string; file: string }>;
  /** Wanted modules that this kernel builds in. */
  builtin: string[];
}

/** "Depends: linux-image-6.1.0-56-cloud-amd64" from `apt-cache depends` output. */
export function parseMetapackageDepends(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*\|?Depends:\s*(linux-image-[^\s<>]+)/.exec(line);
    if (m?.[1] && m[1] !== KERNEL_METAPACKAGE) return m[1];
  }
  return undefined;
}

/** The Version: field of the first stanza of `apt-cache show` output. */
export function parseAptShowVersion(text: string): string | undefined {
  return /^Version:\s*(\S+)/m.exec(text)?.[1];
}

async function aptListsStamp(): Promise<string | undefined> {
  const names = (await readdir(APT_LISTS).catch(() => [] as string[])).filter((n) => n.includes('_Packages')).sort();
  if (!names.length) return undefined;
  const parts: Array<[string, number, number]> = [];
  for (const n of names) {
    const st = await stat(join(APT_LISTS, n)).catch(() => undefined);
    if (st) parts.push([n, st.size, st.mtimeMs]);
  }
  return sha256Json(parts);
}

/**
 * The real package behind linux-image-cloud-amd64 and its candidate version.
 * Remembered in <cacheDir>/kernel/resolved.json until apt's lists change;
 * `apt-get update` runs only when apt has no lists at all.
 */
export async function resolveKernelPackage(cacheDir: string, onProgress?: ProgressFn): Promise<KernelPackage> {
  let stamp = await aptListsStamp();
  if (!stamp) {
    await timedStep(onProgress, 'apt-update', 'apt has no package lists', () =>
      runCommand('apt-get', ['update'], { what: 'apt-get update', hint: 'check the apt mirror is reachable, then re-run' }),
    );
    stamp = await aptListsStamp();
  }
  const memo = join(cacheDir, 'kernel', 'resolved.json');
  const saved = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as { stamp?: string } & Partial<KernelPackage>).catch(() => undefined);
  if (saved && saved.stamp === stamp && saved.package && saved.version) return { package: saved.package, version: saved.version };
  const hint = 'run apt-get update; the cloud kernel comes from the host\'s Debian mirror';
  const depends = await runCommand('apt-cache', ['depends', KERNEL_METAPACKAGE], { what: `apt-cache depends ${KERNEL_METAPACKAGE}`, hint });
  const pkg = parseMetapackageDepends(depends);
  if (!pkg) {
    throw new BenchError('infrastructure', `cannot resolve ${KERNEL_METAPACKAGE} to a kernel package (apt-cache depends gave no linux-image-* dependency)`, { hint });
  }
  const show = await runCommand('apt-cache', ['show', '--no-all-versions', pkg], { what: `apt-cache show ${pkg}`, hint });
  const version = parseAptShowVersion(show);
  if (!version) throw new BenchError('infrastructure', `apt-cache show ${pkg} reported no version`, { hint });
  await mkdir(join(cacheDir, 'kernel'), { recursive: true });
  await writeFile(memo, JSON.stringify({ stamp, package: pkg, version }, null, 2));
  return { package: pkg, version };
}

export function kernelDir(cacheDir: string, pkg: KernelPackage): string {
  return join(cacheDir, 'kernel', `${pkg.package}_${pkg.version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
}

async function readKernelInfo(dir: string): Promise<KernelInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dir, 'kernel.json'), 'utf8')) as Omit<KernelInfo, 'dir' | 'vmlinuz' | 'modules'> & {
      modules: string[];
    };
    const k: KernelInfo = {
      ...info,
      dir,
      vmlinuz: join(dir, 'vmlinuz'),
      modules: info.modules.map((name) => ({ name, file: join(dir, 'modules', `${name}.ko`) })),
    };
    await stat(k.vmlinuz);
    for (const m of k.modules) await stat(m.file);
    return k;
  } catch {
    return undefined;
  }
}

async function findDeb(dir: string, pkg: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const hit = names.find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
  return hit ? join(dir, hit) : undefined;
}

const COMPRESSED = [['.xz', 'xz'], ['.zst', 'zstd'], ['.gz', 'gzip']] as const;

/** A module's ELF bytes (decompressed on the host: busybox insmod cannot). `file` may lack the compression suffix. */
async function moduleBytes(file: string): Promise<Buffer> {
  if (await stat(file).catch(() => undefined)) {
    const c = COMPRESSED.find(([ext]) => file.endsWith(ext));
    if (!c) return readFile(file);
    try {
      const res = await execa(c[1], ['-dc', file], { encoding: 'buffer', stdin: 'ignore' });
      return Buffer.from(res.stdout);
    } catch (err) {
      throw commandError(c[1], `${c[1]} -d (kernel module ${file})`, err);
    }
  }
  for (const [ext] of COMPRESSED) if (await stat(file + ext).catch(() => undefined)) return moduleBytes(file + ext);
  throw new BenchError('infrastructure', `kernel module file missing: ${file}`);
}

/** name → path (relative to the modules dir) from modules.order, or by walking kernel/. */
async function moduleIndex(modRoot: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  const order = await readFile(join(modRoot, 'modules.order'), 'utf8').catch(() => '');
  for (const line of order.split('\n').map((l) => l.trim()).filter(Boolean)) index.set(moduleName(line), line);
  if (index.size) return index;
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(modRoot, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) index.set(moduleName(e.name), r);
    }
  };
  await walk('kernel');
  return index;
}

/**
 * Dependency map for everything reachable from `wanted`: modules.dep when the
 * package has one, else each module's own .modinfo `depends=` (Debian packages
 * ship no modules.dep; depmod writes it at install time).
 */
async function moduleDeps(
  modRoot: string,
  wanted: readonly string[],
  builtin: Set<string>,
): Promise<Map<string, { path: string; deps: string[] }>> {
  const depText = await readFile(join(modRoot, 'modules.dep'), 'utf8').catch(() => '');
  if (depText) return parseModulesDep(depText);
  const index = await moduleIndex(modRoot);
  const out = new Map<string, { path: string; deps: string[] }>();
  const queue = [...wanted];
  while (queue.length) {
    const name = queue.shift()!;
    if (out.has(name) || builtin.has(name)) continue;
    const path = index.get(name);
    if (!path) continue; // resolveModuleOrder reports it
    const deps = modinfoDepends(await moduleBytes(join(modRoot, path)));
    out.set(name, { path, deps });
    queue.push(...deps);
  }
  return out;
}

/**
 * The cloud kernel, cached by package version: `apt-get download` the .deb into
 * <cacheDir>/kernel/debs/, `dpkg-deb -x` it, keep vmlinuz and the virtio modules
 * (uncompressed, busybox insmod cannot decompress) in load order.
 */
export async function ensureKernel(
  cacheDir: string,
  opts: { onProgress?: ProgressFn; pkg?: KernelPackage } = {},
): Promise<KernelInfo> {
  const pkg = opts.pkg ?? (await resolveKernelPackage(cacheDir, opts.onProgress));
  const dir = kernelDir(cacheDir, pkg);
  const have = await readKernelInfo(dir);
  if (have) {
    cachedStep(opts.onProgress, 'kernel', `${pkg.package} ${pkg.version}`);
    return have;
  }
  const debs = join(cacheDir, 'kernel', 'debs');
  await mkdir(debs, { recursive: true });
  let deb = await findDebVersion(debs, pkg);
  if (!deb) {
    deb = await timedStep(opts.onProgress, 'kernel-download', `${pkg.package} ${pkg.version}`, async () => {
      const scratch = await makeScratchDir(cacheDir, 'kernel-dl');
      try {
        await runCommand('apt-get', ['download', `${pkg.package}=${pkg.version}`], {
          cwd: scratch,
          what: `apt-get download ${pkg.package}`,
          hint: 'check the apt mirror is reachable (apt-get update), then re-run',
        });
        const got = await findDeb(scratch, pkg.package);
        if (!got) throw new BenchError('infrastructure', `apt-get download ${pkg.package} produced no .deb`);
        const dest = join(debs, got.slice(got.lastIndexOf('/') + 1));
        await rename(got, dest);
        return dest;
      } finally {
        await removeScratchDir(scratch);
      }
    });
  }
  return timedStep(opts.onProgress, 'kernel', `extract ${pkg.package} ${pkg.version}`, async () => {
    const scratch = await makeScratchDir(cacheDir, 'kernel');
    try {
      const x = join(scratch, 'x');
      await runCommand('dpkg-deb', ['-x', deb, x], { what: `dpkg-deb -x ${deb}` });
      const bootNames = await readdir(join(x, 'boot')).catch(() => [] as string[]);
      const vmlinuzName = bootNames.find((n) => n.startsWith('vmlinuz-'));
      if (!vmlinuzName) throw new BenchError('infrastructure', `${pkg.package} has no boot/vmlinuz-*`);
      const release = vmlinuzName.slice('vmlinuz-'.length);
      let modRoot = join(x, 'lib/modules', release);
      if (!(await stat(modRoot).catch(() => undefined))) modRoot = join(x, 'usr/lib/modules', release);
      const builtinText = await readFile(join(modRoot, 'modules.builtin'), 'utf8').catch(() => '');
      const builtinSet = parseModulesBuiltin(builtinText);
      const wanted: string[] = [...WANTED_MODULES];
      if (!builtinSet.has(ROOT_FS_MODULE)) wanted.push(ROOT_FS_MODULE);
      let plan: ReturnType<typeof resolveModuleOrder>;
      try {
        plan = resolveModuleOrder(wanted, await moduleDeps(modRoot, wanted, builtinSet), builtinSet);
      } catch (err) {
        if (err instanceof BenchError) throw err;
        throw new BenchError('infrastructure', `${pkg.package}: ${(err as Error).message}`, { cause: err });
      }
      const out = join(scratch, 'out');
      await mkdir(join(out, 'modules'), { recursive: true });
      await copyFile(join(x, 'boot', vmlinuzName), join(out, 'vmlinuz'));
      for (const m of plan.order) await writeFile(join(out, 'modules', `${m.name}.ko`), await moduleBytes(join(modRoot, m.path)));
      const meta = { ...pkg, release, modules: plan.order.map((m) => m.name), builtin: plan.builtin };
      await writeFile(join(out, 'kernel.json'), `${JSON.stringify(meta, null, 2)}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(out, dir);
      const info = await readKernelInfo(dir);
      if (!info) throw new BenchError('internal', `kernel cache ${dir} unreadable right after writing it`);
      return info;
    } finally {
      await removeScratchDir(scratch);
    }
  }, (k) => `${k.release}: ${k.modules.map((m) => m.name).join(' ')}`);
}

async function findDebVersion(dir: string, pkg: KernelPackage): Promise<string | undefined> {
  // apt names it <pkg>_<version with ':' as %3a>_<arch>.deb
  const v = pkg.version.replace(/:/g, '%3a');
  const names = await readdir(dir).catch(() => [] as string[]);
  const hit = names.find((n) => n.startsWith(`${pkg.package}_${v}_`) && n.endsWith('.deb'));
  return hit ? join(dir, hit) : undefined;
}
