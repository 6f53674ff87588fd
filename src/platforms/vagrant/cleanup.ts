import { access, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BenchError } from '../../errors.js';
import { tail } from './commands.js';
import { killPids, listVmbenchQemuProcesses, VM_NAME_PREFIX } from '../qemu/procs.js';
import { isBoxVolume, listPoolVolumes } from './box-store.js';
import { vagrantPaths, vagrantProcessEnv, virsh, type VagrantPaths } from './env.js';

/**
 * Removing what Vagrant and libvirt leave behind: per-instance projects,
 * domains, their volumes and QEMU processes. Used on every exit path of the
 * Vagrant platform and by `bench gc` after a crash.
 */

/** How long `vagrant destroy -f` may take before the virsh fallback. */
export const DESTROY_TIMEOUT_MS = 180_000;

/** Domain names (all, active or not) on the private libvirtd. */
export async function listDomains(paths: VagrantPaths): Promise<string[]> {
  const r = await virsh(paths, ['list', '--all', '--name'], 15_000).catch(() => ({ stdout: '', exitCode: 1, stderr: '' }));
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * virsh destroy + undefine (with its storage) for each named domain that still
 * exists, delete per-domain volumes (<domain>.img) left in the pool, and kill
 * any QEMU process still named after the domain. Returns the domains that had
 * to be removed this way.
 */
export async function forceRemoveDomains(paths: VagrantPaths, domains: readonly string[], log?: (line: string) => void): Promise<string[]> {
  const existing = new Set(await listDomains(paths));
  const removed: string[] = [];
  for (const d of domains) {
    if (!existing.has(d)) continue;
    removed.push(d);
    log?.(`virsh destroy/undefine ${d}`);
    await virsh(paths, ['destroy', d], 30_000);
    const u = await virsh(paths, ['undefine', d, '--remove-all-storage', '--managed-save', '--snapshots-metadata'], 30_000);
    if (u.exitCode !== 0) await virsh(paths, ['undefine', d], 30_000);
  }
  const volumes = await listPoolVolumes(paths);
  for (const v of volumes) {
    if (isBoxVolume(v)) continue;
    if (domains.some((d) => v === `${d}.img` || v.startsWith(`${d}-`) || v.startsWith(`${d}.`))) {
      log?.(`virsh vol-delete ${v}`);
      await virsh(paths, ['vol-delete', '--pool', paths.pool, v], 30_000);
    }
  }
  const procs = (await listVmbenchQemuProcesses()).filter((p) => domains.includes(p.name));
  if (procs.length) {
    log?.(`killing qemu ${procs.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
    const left = await killPids(procs.map((p) => p.pid));
    if (left.length) throw new BenchError('infrastructure', `could not kill qemu process(es) ${left.join(', ')}`);
  }
  return removed;
}

export interface VagrantGcResult {
  environments: number;
  domains: number;
  volumes: number;
}

/**
 * Remove Vagrant leftovers: every instance project under envs/<runId>/
 * (`vagrant destroy -f`, then the dir), every domain named vmbench-<runId>-*
 * (or vmbench-* with no runId), their volumes and QEMU processes. Box volumes
 * stay. Does nothing (and starts nothing) when the private libvirtd was never
 * set up.
 */
export async function cleanupVagrant(
  cacheDir: string,
  opts: { runId?: string; log?: (line: string) => void; /** A remote host's libvirt (uri, pool) instead of the private libvirtd. */ paths?: VagrantPaths } = {},
): Promise<VagrantGcResult> {
  const paths = opts.paths ?? vagrantPaths(cacheDir);
  const result: VagrantGcResult = { environments: 0, domains: 0, volumes: 0 };
  const prefix = opts.runId ? `${VM_NAME_PREFIX}${opts.runId}-` : VM_NAME_PREFIX;
  const runDirs = opts.runId ? [opts.runId] : await readdir(paths.envs).catch(() => [] as string[]);
  const env = vagrantProcessEnv(paths);
  for (const run of runDirs) {
    const runDir = join(paths.envs, run);
    for (const inst of await readdir(runDir).catch(() => [] as string[])) {
      const dir = join(runDir, inst);
      if (await access(join(dir, 'Vagrantfile')).then(() => true, () => false)) {
        opts.log?.(`vagrant destroy -f in ${dir}`);
        await execa('vagrant', ['destroy', '-f'], { cwd: dir, env, reject: false, timeout: DESTROY_TIMEOUT_MS });
      }
      await rm(dir, { recursive: true, force: true });
      result.environments++;
    }
    await rmdir(runDir).catch(() => undefined);
  }
  // The private libvirtd may never have been set up (then nothing to ask); a remote one is asked over its URI.
  let socketThere = true;
  if (!opts.paths) {
    try {
      await access(paths.socket);
    } catch {
      socketThere = false;
    }
  }
  const domains = socketThere ? (await listDomains(paths)).filter((d) => d.startsWith(prefix)) : [];
  const before = socketThere ? (await listPoolVolumes(paths)).filter((v) => !isBoxVolume(v) && v.startsWith(prefix)) : [];
  result.domains = (await forceRemoveDomains(paths, domains, opts.log)).length;
  // Volumes of domains already gone.
  for (const v of before) {
    if (domains.some((d) => v.startsWith(d))) continue;
    opts.log?.(`virsh vol-delete ${v}`);
    await virsh(paths, ['vol-delete', '--pool', paths.pool, v], 30_000);
  }
  const after = socketThere ? (await listPoolVolumes(paths)).filter((v) => !isBoxVolume(v) && v.startsWith(prefix)) : [];
  result.volumes = before.length - after.length;
  // QEMU processes of vagrant domains whose domain libvirt no longer knows (pidfile in our run dir).
  const strays = (await listVmbenchQemuProcesses()).filter((p) => p.name.startsWith(prefix) && p.argv.some((a) => a.includes(paths.root)));
  if (strays.length) await killPids(strays.map((p) => p.pid));
  return result;
}

/**
 * `vagrant destroy -f` in one instance's project, then make sure: the domain
 * undefined and its volume deleted (virsh), its QEMU gone, the project dir
 * removed. Returns how the domain went.
 */
export async function destroyEnvironment(
  paths: VagrantPaths,
  envDir: string,
  domain: string,
  log: (line: string) => void,
): Promise<{ method: string; destroyMs: number }> {
  const t0 = performance.now();
  let method = 'none';
  try {
    if (await access(join(envDir, 'Vagrantfile')).then(() => true, () => false)) {
      const r = await execa('vagrant', ['destroy', '-f'], { cwd: envDir, env: vagrantProcessEnv(paths), reject: false, timeout: DESTROY_TIMEOUT_MS, all: true });
      method = r.exitCode === 0 ? 'vagrant-destroy' : 'vagrant-destroy-failed';
      if (r.exitCode !== 0) log(`${domain}: vagrant destroy -f failed (exit ${r.exitCode ?? '?'}): ${tail(String(r.all ?? ''), 4)}`);
    }
    const left = await forceRemoveDomains(paths, [domain], log);
    if (left.length) method = `${method}+virsh`;
  } finally {
    await rm(envDir, { recursive: true, force: true });
  }
  return { method, destroyMs: performance.now() - t0 };
}
