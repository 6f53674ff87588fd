import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { messageOf } from '../../errors.js';
import { engineRuntimes, runtimeFacts } from '../../platforms/docker/runtime.js';
import { VAGRANT_POOL, vagrantGlobalExec, vagrantPaths, virsh } from '../../platforms/vagrant/env.js';
import { existsSync } from 'node:fs';
import { defaultCacheDir } from '../../paths.js';

const run = promisify(execFile);

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface CheckResult {
  section: string;
  name: string;
  status: CheckStatus;
  detail: string;
  /** One line saying how to fix it (absent when ok). */
  fix?: string;
}

async function version(cmd: string, args: string[] = ['--version']): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 10_000 });
    return ((stdout || stderr).split('\n')[0] ?? '').trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string };
    if (e.code === 'ENOENT') return null;
    return (e.stdout ?? '').split('\n')[0]?.trim() || 'present (version unknown)';
  }
}

async function which(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      await access(`${dir}/${cmd}`, constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {
      // keep looking
    }
  }
  return null;
}

const SETUP = 'run ./scripts/setup.sh';

export async function dockerChecks(docker: Dockerode): Promise<CheckResult[]> {
  const section = 'containers';
  try {
    const v = await docker.version();
    const info = await docker.info() as { Runtimes?: Record<string, unknown>; CgroupVersion?: string; Driver?: string; ExperimentalBuild?: boolean };
    const registered = await engineRuntimes(docker);
    const runtimes = [...registered.keys()];
    const runtimeChecks: CheckResult[] = [];
    for (const name of ['runc', 'crun', 'runsc']) {
      const r = registered.get(name);
      if (!r) {
        runtimeChecks.push({ section, name: `runtime ${name}`, status: name === 'runc' ? 'fail' : 'warn', detail: 'not registered with the engine', fix: `${SETUP} (installs crun and runsc and registers them)` });
        continue;
      }
      const f = await runtimeFacts(r);
      const gvisor = f.gvisorPlatform ? `; gVisor platform ${f.gvisorPlatform}, network ${f.gvisorNetwork}` : '';
      runtimeChecks.push({ section, name: `runtime ${name}`, status: f.runtimeVersion === 'unknown' ? 'warn' : 'ok', detail: `${f.runtimeVersion} (${r.path}${r.runtimeArgs.length ? ` ${r.runtimeArgs.join(' ')}` : ''})${gvisor}` });
    }
    const others = runtimes.filter((n) => !['runc', 'crun', 'runsc', 'io.containerd.runc.v2', 'io.containerd.runtime.v1.linux'].includes(n));
    if (others.length) runtimeChecks.push({ section, name: 'other runtimes', status: 'info', detail: others.join(', ') });
    runtimeChecks.push({
      section,
      name: 'checkpoint/restore',
      status: 'info',
      detail: `engine experimental mode ${info.ExperimentalBuild ? 'on' : 'off'} (docker checkpoint needs it; CRIU for runc/crun, runsc's own for gVisor)`,
    });
    return [
      { section, name: 'Docker Engine', status: 'ok', detail: `${v.Version} (API ${v.ApiVersion}, ${info.Driver ?? '?'} storage, cgroup v${info.CgroupVersion ?? '?'})` },
      ...runtimeChecks,
      {
        section: 'gpu',
        name: 'NVIDIA container runtime',
        status: runtimes.includes('nvidia') ? 'ok' : 'info',
        detail: runtimes.includes('nvidia') ? 'registered with the engine' : `not registered (runtimes: ${runtimes.join(', ') || 'none'})`,
        fix: runtimes.includes('nvidia') ? undefined : 'needed only for GPU scenarios: install nvidia-container-toolkit',
      },
    ];
  } catch (err) {
    return [{ section, name: 'Docker Engine', status: 'fail', detail: `does not answer: ${messageOf(err)}`, fix: `${SETUP} (starts dockerd when none answers)` }];
  }
}

export async function qemuChecks(): Promise<CheckResult[]> {
  const section = 'virtual machines';
  const out: CheckResult[] = [];
  const q = await version('qemu-system-x86_64');
  out.push(q ? { section, name: 'qemu-system-x86_64', status: 'ok', detail: q } : { section, name: 'qemu-system-x86_64', status: 'fail', detail: 'not found', fix: SETUP });
  const img = await version('qemu-img');
  out.push(img ? { section, name: 'qemu-img', status: 'ok', detail: img } : { section, name: 'qemu-img', status: 'fail', detail: 'not found', fix: SETUP });
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    out.push({ section, name: '/dev/kvm', status: 'ok', detail: 'present and accessible (whether a guest boots under it is probed below)' });
  } catch {
    out.push({ section, name: '/dev/kvm', status: 'warn', detail: 'absent or not accessible: VMs run under TCG emulation (slow, not representative)', fix: 'enable virtualization / load kvm_intel or kvm_amd' });
  }
  return out;
}

export async function buildToolChecks(): Promise<CheckResult[]> {
  const section = 'image build';
  const tools: Array<[string, string]> = [
    ['debootstrap', 'builds the Debian root filesystem'],
    ['mkfs.ext4', 'makes the VM disk'],
    ['cpio', 'packs the initramfs'],
    ['dropbear', 'SSH server inside the VM'],
    ['dpkg', 'unpacks the guest kernel'],
    ['apt-get', 'downloads the guest kernel'],
  ];
  const out: CheckResult[] = [];
  for (const [tool, why] of tools) {
    const path = await which(tool);
    out.push(path ? { section, name: tool, status: 'ok', detail: path } : { section, name: tool, status: 'fail', detail: `not found (${why})`, fix: SETUP });
  }
  try {
    const { stdout } = await run('/bin/busybox', ['--help'], { timeout: 5_000 });
    const fileOut = await run('file', ['-L', '/bin/busybox']).then((r) => r.stdout).catch(() => '');
    out.push({ section, name: 'busybox (static)', status: 'ok', detail: `${(stdout.split('\n')[0] ?? '').trim()}${/statically linked/.test(fileOut) ? ', static' : ''}` });
  } catch {
    out.push({ section, name: 'busybox (static)', status: 'fail', detail: '/bin/busybox not found (VM init and initramfs)', fix: `${SETUP} (busybox-static)` });
  }
  return out;
}

/**
 * The Vagrant substrate (only needed by scenarios with kind: vagrant): vagrant,
 * the vagrant-libvirt plugin as seen with the project-local VAGRANT_HOME, the
 * private libvirtd answering on its socket in the cache dir, and its storage
 * pool. Missing pieces are `info`, not failures: `bench run` and the tests set
 * them up (scripts/setup-vagrant.sh) when a scenario uses Vagrant.
 */
export async function vagrantChecks(cacheDir: string = defaultCacheDir()): Promise<CheckResult[]> {
  const section = 'vagrant';
  const fixAll = 'run ./scripts/setup-vagrant.sh (root; only needed for kind: vagrant — bench run does it when a scenario needs it)';
  const paths = vagrantPaths(cacheDir);
  const g = vagrantGlobalExec(paths);
  const env = { ...process.env, ...g.env };
  const out: CheckResult[] = [];
  const v = await version('vagrant');
  if (!v) {
    out.push({ section, name: 'vagrant', status: 'info', detail: 'not installed', fix: fixAll });
  } else {
    out.push({ section, name: 'vagrant', status: 'ok', detail: v });
    let plugins = '';
    try {
      // Not in the checkout: vagrant would load ./Vagrantfile (see NO_VAGRANTFILE).
      plugins = (await run('vagrant', ['plugin', 'list'], { timeout: 60_000, env, cwd: existsSync(g.cwd) ? g.cwd : '/' })).stdout;
    } catch (err) {
      plugins = (err as { stdout?: string }).stdout ?? '';
    }
    const m = /vagrant-libvirt \(([^,)]+)[^)]*\)/.exec(plugins);
    out.push(
      m
        ? { section, name: 'vagrant-libvirt plugin', status: 'ok', detail: `${m[1]} (VAGRANT_HOME ${paths.home})` }
        : { section, name: 'vagrant-libvirt plugin', status: 'info', detail: `not listed by vagrant plugin list (VAGRANT_HOME ${paths.home})`, fix: 'apt-get install vagrant-libvirt (vagrant-qemu is not an option offline)' },
    );
  }
  const virshV = await version('virsh');
  if (!virshV) {
    out.push({ section, name: 'libvirtd (private)', status: 'info', detail: 'libvirt is not installed', fix: fixAll });
    return out;
  }
  const daemon = await virsh(paths, ['version', '--daemon'], 10_000).catch(() => ({ stdout: '', stderr: 'virsh failed', exitCode: 1 }));
  if (daemon.exitCode !== 0) {
    out.push({ section, name: 'libvirtd (private)', status: 'info', detail: `does not answer on ${paths.socket}`, fix: `${fixAll}; logs: ${paths.libvirtdLog}` });
    return out;
  }
  const dv = /daemon[^0-9]*([0-9.]+)/i.exec(daemon.stdout)?.[1] ?? '?';
  const pid = (await readFile(paths.libvirtdPidfile, 'utf8').catch(() => '?')).trim();
  out.push({ section, name: 'libvirtd (private)', status: 'ok', detail: `${dv} on ${paths.socket} (pid ${pid}; host /etc/libvirt untouched)` });
  const pool = await virsh(paths, ['pool-info', VAGRANT_POOL], 10_000);
  const running = /State:\s+running/.test(pool.stdout);
  const poolPath = /<path>([^<]+)<\/path>/.exec((await virsh(paths, ['pool-dumpxml', VAGRANT_POOL], 10_000)).stdout)?.[1];
  out.push(
    running
      ? { section, name: `storage pool ${VAGRANT_POOL}`, status: 'ok', detail: `running at ${poolPath ?? paths.poolDir}` }
      : { section, name: `storage pool ${VAGRANT_POOL}`, status: 'info', detail: pool.exitCode === 0 ? 'defined but not running' : 'missing ("No usable storage pool found" in vagrant up)', fix: fixAll },
  );
  return out;
}

export async function memoryFeatureChecks(): Promise<CheckResult[]> {
  const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim()).catch(() => null);
  const ksm = await read('/sys/kernel/mm/ksm/run');
  const thp = await read('/sys/kernel/mm/transparent_hugepage/enabled');
  return [
    { section: 'host', name: 'KSM', status: 'info', detail: ksm === null ? 'not available' : ksm === '1' ? 'on (VM memory may be deduplicated)' : 'off' },
    { section: 'host', name: 'transparent hugepages', status: 'info', detail: thp ?? 'not available' },
  ];
}
