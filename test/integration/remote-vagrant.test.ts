import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVagrantHost } from '../../src/platforms/vagrant/env.js';
import { readSamples } from '../../src/results/journal.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { startSshd, type SshdFixture } from './remote/sshd-fixture.js';

/**
 * kind: vagrant on a remote host: Vagrant here, libvirt "there" over its
 * qemu+ssh:// URI through a real OpenSSH server on 127.0.0.1 (root login
 * with this sshd's own authorized key and host key: a libvirt socket is
 * root's) — the private libvirtd of this machine reached by ?socket=, as a
 * remote host's libvirtd would be. One VM boots (≈ 2–3 min under TCG); the
 * run must record the host and URI, poll readiness and read memory there,
 * and leave no domain, volume, project, QEMU or host run dir behind; a
 * controller SIGKILLed while the domain runs there leaves it to `bench gc`
 * (the project here names the URI) and `bench gc --host` (the host's dir).
 */

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const cacheDir = process.env.VMBENCH_CACHE_DIR ?? join(root, '.bench');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-remote-vagrant-'));
let sshd: SshdFixture;
let socket = '';
let wrapper = '';

beforeAll(async () => {
  const paths = await ensureVagrantHost(cacheDir);
  socket = paths.socket;
  wrapper = paths.qemuTbWrapper;
  sshd = await startSshd({ root: true });
}, 600_000);
afterAll(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface CliRun {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; stderr: string }>;
}

function bench(args: string[]): CliRun {
  const child = spawn('node', [bin, ...args], { cwd: root, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, stderr: () => stderr, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))) };
}

const readStderr = (r: CliRun) => r.stderr();

function scenarioFile(): string {
  const file = join(tmp, 'remote-vagrant.yaml');
  writeFileSync(
    file,
    [
      'name: remote-vagrant',
      'workload: { model: resnet18, threads: 1 }',
      'hosts:',
      `  box: { url: "${sshd.url}", key: "${sshd.keyPath}", known_hosts: "${sshd.knownHostsPath}", work_dir: "${sshd.home}",`,
      `         libvirt: { socket: "${socket}", pool: vmbench, emulator: "${wrapper}" } }`,
      'platforms:',
      '  - { name: vm, kind: vagrant, host: box, accel: tcg, cpus: 1, memory: 1GiB, boot_timeout: 400s }',
      'measurements:',
      '  startup: { repetitions: 1, warmup: 0, timeout: 400s }',
      '  memory: { settle: 1s }',
      '  network: { requests: 20 }',
      'report: { formats: [json] }',
      '',
    ].join('\n'),
  );
  return file;
}

const virsh = (...args: string[]) => execFileSync('virsh', ['-q', '-c', `qemu:///system?socket=${socket}`, ...args]).toString();

function qemuOf(runId: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`vmbench-${runId}-`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Nothing of the run: no domain or volume on the libvirt, no project here, no QEMU, no run dir on the host. */
function expectNothingLeft(runId: string): void {
  expect(virsh('list', '--all', '--name').split('\n').filter((d) => d.includes(runId))).toEqual([]);
  expect(virsh('vol-list', 'vmbench').split('\n').filter((v) => v.includes(runId))).toEqual([]);
  expect(existsSync(join(cacheDir, 'vagrant', 'envs', runId))).toBe(false);
  expect(qemuOf(runId)).toEqual([]);
  const hostRun = join(sshd.home, 'runs', runId);
  expect(existsSync(hostRun), existsSync(hostRun) ? execFileSync('find', [hostRun]).toString() : '').toBe(false);
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

describe('vagrant on a remote libvirt (qemu+ssh://)', () => {
  it('boots the box through the host\'s libvirt, measures it from that host, and leaves nothing', async () => {
    const file = scenarioFile();
    const r = await bench(['run', file, '--results', join(tmp, 'results')]).done;
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const runId = /run (\d{8}-\d{6}-[a-z0-9_-]+-[0-9a-f]{4}) →/.exec(r.stderr)![1]!;
    const dir = join(tmp, 'results', runId);
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    expect(record.status).toBe('completed');
    expect(record.failures ?? []).toEqual([]);
    const facts = record.environment.platforms.vm;
    expect(facts).toMatchObject({ host: 'box', accel: 'tcg', libvirtPool: 'vmbench' });
    expect(String(facts?.libvirtUri)).toMatch(/^qemu\+ssh:\/\/root@127\.0\.0\.1:\d+\/system\?command=.*&socket=/);
    expect(record.identity?.platforms.map((p) => [p.platform, p.rootfsDigestInside])).toEqual([['vm', record.artifact?.rootfsDigest]]);

    const samples = readSamples(join(dir, 'samples.jsonl')).filter((s) => !s.warmup);
    const startup = samples.find((s) => s.metric === 'startup');
    expect(startup?.value).toBeGreaterThan(0);
    expect(startup?.metadata).toMatchObject({ poll_from: 'host box', host: 'box' });
    expect(samples.some((s) => s.metric === 'phase_kernel_init')).toBe(true); // the console, mirrored from the host
    const mem = samples.find((s) => s.metric === 'memory_host');
    expect(mem?.value).toBeGreaterThan(100);
    expect(String(mem?.metadata.method ?? '')).toMatch(/host box/);
    expect(samples.find((s) => s.metric === 'network_rtt_p50')?.metadata).toMatchObject({ load_from: 'host box' });

    expectNothingLeft(runId);
  }, 900_000);

  it('a SIGKILLed controller leaves a running domain there; bench gc and gc --host remove all of it', async () => {
    const file = scenarioFile();
    const run = bench(['run', file, '--results', join(tmp, 'results')]);
    let runId: string | null = null;
    // Until libvirt there runs the run's domain (its QEMU started): then the controller dies.
    const up = await eventually(() => {
      runId ??= /run (\d{8}-\d{6}-[a-z0-9_-]+-[0-9a-f]{4}) →/.exec(readStderr(run))?.[1] ?? null;
      return runId !== null && virsh('list', '--name').includes(runId) && qemuOf(runId).length > 0;
    }, 300_000);
    expect(up, readStderr(run).slice(-2000)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    expect(virsh('list', '--all', '--name')).toContain(runId!);
    // The projects here name the URI: gc destroys the domain over it; gc --host takes the host's scratch dir.
    const gc = await bench(['gc']).done;
    expect(gc.code, gc.stderr).toBe(0);
    const gcHost = await bench(['gc', '--host', `box=${sshd.url}`, '--scenario', file]).done;
    expect(gcHost.code, gcHost.stderr).toBe(0);
    expect(await eventually(() => qemuOf(runId!).length === 0, 15_000)).toBe(true);
    expectNothingLeft(runId!);
  }, 600_000);
});
