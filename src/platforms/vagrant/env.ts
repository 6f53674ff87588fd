import { access, constants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import { projectRoot } from '../../paths.js';

/**
 * Where the Vagrant substrate keeps its state (all under the cache dir, never
 * /etc/libvirt or a host libvirtd), and how to make sure it is usable.
 *
 *   <cacheDir>/vagrant/
 *     home/                 VAGRANT_HOME (added boxes, vagrant's own data)
 *     envs/<runId>/<inst>/  one Vagrant project per instance (Vagrantfile, key, console.log, .vagrant/)
 *     libvirt/              the private libvirtd (scripts/setup-vagrant.sh): etc/ lib/ run/ cache/ log/ pool/ bin/
 *       run/libvirt-sock    its unix socket (LIBVIRT_DEFAULT_URI = qemu:///system?socket=…)
 *       run/qemu/<dom>.pid  pidfile of each domain's QEMU
 *       log/qemu/<dom>.log  each domain's QEMU command line and stderr
 *       pool/               storage pool `vmbench` (box image volumes, per-domain overlays)
 */

export const VAGRANT_POOL = 'vmbench';
/** Box names: vmbench-box-<artifact id12> (never the vmbench-<runId>- prefix of domains). */
export const BOX_PREFIX = 'vmbench-box-';

export interface VagrantPaths {
  root: string;
  home: string;
  envs: string;
  state: string;
  socket: string;
  /** libvirt URI every vagrant and virsh call uses (the private libvirtd here; qemu+ssh://… for a remote host). */
  uri: string;
  /** Storage pool for box and domain volumes. */
  pool: string;
  qemuRunDir: string;
  qemuLogDir: string;
  libvirtdPidfile: string;
  libvirtdLog: string;
  poolDir: string;
  /** QEMU wrapper that adds tb-size to libvirt's `-accel tcg` (written by the setup script). */
  qemuTbWrapper: string;
}

export function vagrantPaths(cacheDir: string): VagrantPaths {
  const root = join(resolve(cacheDir), 'vagrant');
  const state = join(root, 'libvirt');
  const socket = join(state, 'run', 'libvirt-sock');
  return {
    root,
    home: join(root, 'home'),
    envs: join(root, 'envs'),
    state,
    socket,
    uri: `qemu:///system?socket=${socket}`,
    pool: VAGRANT_POOL,
    qemuRunDir: join(state, 'run', 'qemu'),
    qemuLogDir: join(state, 'log', 'qemu'),
    libvirtdPidfile: join(state, 'run', 'libvirtd.pid'),
    libvirtdLog: join(state, 'log', 'libvirtd.log'),
    poolDir: join(state, 'pool'),
    qemuTbWrapper: join(state, 'bin', 'qemu-system-x86_64-tb'),
  };
}

/** Environment for every vagrant / virsh call: the project-local VAGRANT_HOME and the private libvirtd. */
export function vagrantProcessEnv(paths: VagrantPaths): Record<string, string> {
  return {
    VAGRANT_HOME: paths.home,
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_NO_COLOR: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    VAGRANT_SUPPRESS_PLUGIN_WARNINGS: '1',
    VAGRANT_VAGRANTFILE: 'Vagrantfile',
    LIBVIRT_DEFAULT_URI: paths.uri,
  };
}

/**
 * A Vagrantfile name that exists nowhere. Vagrant looks for a Vagrantfile in
 * the working directory and every parent, so commands that are not about one
 * instance (box add/remove, plugin list, --version) would otherwise load the
 * project's own top-level Vagrantfile (and create .vagrant/ in the checkout).
 */
export const NO_VAGRANTFILE = '.vmbench-no-vagrantfile';

/** Environment and working directory for vagrant commands outside an instance's project. */
export function vagrantGlobalExec(paths: VagrantPaths): { env: Record<string, string>; cwd: string } {
  return { env: { ...vagrantProcessEnv(paths), VAGRANT_VAGRANTFILE: NO_VAGRANTFILE }, cwd: paths.root };
}

/** virsh against the private libvirtd. */
export async function virsh(paths: VagrantPaths, args: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const r = await execa('virsh', ['-q', '-c', paths.uri, ...args], { reject: false, timeout: timeoutMs, env: vagrantProcessEnv(paths) });
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? (r.failed ? 1 : 0) };
}

/** Whether the private libvirtd answers and the storage pool is running. */
export async function vagrantHostReady(paths: VagrantPaths): Promise<{ ok: boolean; detail: string }> {
  try {
    await access(paths.socket, constants.F_OK);
  } catch {
    return { ok: false, detail: `no socket at ${paths.socket}` };
  }
  const v = await virsh(paths, ['version', '--daemon'], 10_000).catch((e: unknown) => ({ stdout: '', stderr: messageOf(e), exitCode: 1 }));
  if (v.exitCode !== 0) return { ok: false, detail: `libvirtd does not answer on ${paths.socket}: ${v.stderr.trim()}` };
  const pool = await virsh(paths, ['pool-info', VAGRANT_POOL], 10_000);
  if (pool.exitCode !== 0 || !/State:\s+running/.test(pool.stdout)) return { ok: false, detail: `storage pool ${VAGRANT_POOL} is not running` };
  try {
    await access(paths.qemuTbWrapper, constants.X_OK);
  } catch {
    return { ok: false, detail: `${paths.qemuTbWrapper} is missing` };
  }
  return { ok: true, detail: 'ok' };
}

export function setupScript(): string {
  return join(projectRoot(), 'scripts', 'setup-vagrant.sh');
}

/**
 * Make the Vagrant substrate usable: when the private libvirtd does not answer
 * or its pool is missing, run scripts/setup-vagrant.sh (apt packages if
 * missing, the libvirt-qemu user, config, libvirtd, pool). Idempotent.
 */
export async function ensureVagrantHost(cacheDir: string, log?: (line: string) => void): Promise<VagrantPaths> {
  const paths = vagrantPaths(cacheDir);
  const ready = await vagrantHostReady(paths);
  if (ready.ok) return paths;
  log?.(`vagrant: ${ready.detail}; running ${setupScript()}`);
  const r = await execa(setupScript(), [], {
    reject: false,
    timeout: 600_000,
    env: { VMBENCH_CACHE_DIR: resolve(cacheDir) },
    all: true,
  });
  if (r.exitCode !== 0) {
    throw new BenchError('infrastructure', `scripts/setup-vagrant.sh failed (exit ${r.exitCode ?? '?'}): ${String(r.all ?? '').trim().split('\n').slice(-8).join(' / ')}`, {
      hint: 'run ./scripts/setup-vagrant.sh as root and read its messages; `bench doctor` lists what is missing',
    });
  }
  for (const l of String(r.stderr ?? '').split('\n')) if (l.trim()) log?.(l.trim());
  const again = await vagrantHostReady(paths);
  if (!again.ok) throw new BenchError('infrastructure', `Vagrant host still not ready after setup: ${again.detail}`, { hint: `see ${paths.libvirtdLog}` });
  return paths;
}
