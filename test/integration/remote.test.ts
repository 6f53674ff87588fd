import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSamples } from '../../src/results/journal.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { startSshd, type SshdFixture } from './remote/sshd-fixture.js';

/**
 * Remote hosts end to end: the real CLI (dist/) against a real OpenSSH
 * server on 127.0.0.1 (another user, home, work dir and host key: see
 * sshd-fixture.ts), registered as host "box" — Docker through the Engine
 * API over ssh (docker system dial-stdio), readiness polls and memory from
 * that host, doctor and gc --host — then a run whose connection is cut while
 * QEMU starts there. Every leftover check is scoped to this test's run ids
 * and user. One VM boots over SSH (the first test: ≈ 1–2 min under TCG);
 * bench/remote-vm.ts runs the same docker + qemu scenario by hand, verbose.
 */

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const cacheDir = process.env.VMBENCH_CACHE_DIR ?? join(root, '.bench');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-remote-'));
let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function scenario(name: string, platforms: string[], measurements: string): string {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'workload: { model: resnet18, threads: 1 }',
      'hosts:',
      // The URL comes from --host (the flag path); key and known_hosts from the file.
      `  box: { url: "ssh://placeholder@127.0.0.1:1", key: "${sshd.keyPath}", known_hosts: "${sshd.knownHostsPath}" }`,
      'platforms:',
      ...platforms.map((p) => `  - ${p}`),
      'measurements:',
      measurements,
      'report: { formats: [json, markdown] }',
      '',
    ].join('\n'),
  );
  return file;
}

interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr: () => string;
}

function bench(args: string[]): CliRun {
  const child = spawn('node', [bin, ...args], { cwd: root, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

const runIdOf = (stderr: string) => /run (\d{8}-\d{6}-[a-z0-9_-]+-[0-9a-f]{4}) →/.exec(stderr)?.[1] ?? null;

/** qemu processes (any user) whose argv names this run's VMs. */
function qemuOf(runId: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if ((argv[0]?.split('/').pop() ?? '').startsWith('qemu-system') && argv.some((a) => a.startsWith(`vmbench-${runId}-`))) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

async function containersOf(runId: string): Promise<number> {
  return (await new Dockerode().listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).length;
}

async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

/** Nothing of the run is left: containers, qemu, the host's run dir, the local mirror dir, any process of the SSH user. */
async function expectNothingLeft(runId: string): Promise<void> {
  expect(await containersOf(runId)).toBe(0);
  expect(qemuOf(runId)).toEqual([]);
  const hostRunDir = join(sshd.home, '.cache', 'vmbench-host', 'runs', runId);
  expect(existsSync(hostRunDir), existsSync(hostRunDir) ? execFileSync('find', [hostRunDir]).toString() : '').toBe(false);
  expect(existsSync(join(cacheDir, 'remote-runs', runId))).toBe(false);
  expect(await eventually(() => sshd.userPids().length === 0, 10_000)).toBe(true);
}

describe('remote host over SSH', () => {
  it('runs Docker and QEMU on the host end to end: results, identity proof and fingerprint for that host; doctor and gc --host; nothing left', async () => {
    const file = scenario(
      'remote-e2e',
      ['{ name: container, kind: docker, cpus: 1, memory: 1GiB, host: box }', '{ name: vm, kind: qemu, cpus: 1, memory: 1GiB, accel: tcg, machine: pc, boot_timeout: 400s, host: box }'],
      '  startup: { repetitions: 1, warmup: 0, timeout: 400s }\n  memory: { settle: 1s }',
    );
    const r = await bench(['run', file, '--results', join(tmp, 'results'), '--host', `box=${sshd.url}`]).done;
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const runId = runIdOf(r.stderr)!;
    const dir = join(tmp, 'results', runId);
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    expect(record.status).toBe('completed');
    expect(record.failures ?? []).toEqual([]);

    // The host's fingerprint, its host key checked against known_hosts.
    const box = record.environment.hosts?.box;
    expect(box).toMatchObject({ user: sshd.user, url: sshd.url, hostKeyType: 'ssh-ed25519', hostKeyChecked: true });
    expect(String(box?.hostKey)).toMatch(/^SHA256:/);
    expect(Number(box?.cores)).toBeGreaterThan(0);
    expect(Number(box?.controlRttMs)).toBeGreaterThan(0);
    // The platform ran there, through the engine's remote interface.
    expect(record.environment.platforms.container).toMatchObject({ host: 'box', engineTransport: 'ssh: docker system dial-stdio' });
    expect(record.environment.platforms.vm).toMatchObject({ host: 'box', accel: 'tcg' });

    // The identity proof ran on that host, on both substrates.
    expect(record.identity?.agreed).toBe(true);
    expect(record.identity?.platforms.map((p) => p.platform).sort()).toEqual(['container', 'vm']);
    for (const p of record.identity?.platforms ?? []) expect(p.rootfsDigestInside, p.platform).toBe(record.artifact?.rootfsDigest);

    // Readiness was polled on the host, memory read from the host's /proc.
    const samples = readSamples(join(dir, 'samples.jsonl')).filter((s) => !s.warmup);
    const startup = samples.find((s) => s.metric === 'startup' && s.platform === 'container');
    expect(startup?.value).toBeGreaterThan(0);
    expect(startup?.metadata).toMatchObject({ poll_from: 'host box', load_from: 'host box', host: 'box' });
    expect(Number(startup?.metadata.clock_uncertainty_ms)).toBeLessThan(50);
    const mem = samples.find((s) => s.metric === 'memory_host' && s.platform === 'container');
    expect(mem?.unit).toBe('MiB');
    expect(mem?.value).toBeGreaterThan(50);
    // The VM too: QEMU started over SSH there, polled from there, its memory from the host's /proc.
    const vmStartup = samples.find((s) => s.metric === 'startup' && s.platform === 'vm');
    expect(vmStartup?.value).toBeGreaterThan(0);
    expect(vmStartup?.metadata).toMatchObject({ poll_from: 'host box', host: 'box' });
    const vmMem = samples.find((s) => s.metric === 'memory_host' && s.platform === 'vm');
    expect(vmMem?.value).toBeGreaterThan(mem!.value); // a guest kernel and QEMU on top of the same server

    // doctor --host: the same SSH and Engine paths, checked.
    const doc = await bench(['doctor', '--host', `box=${sshd.url}`, '--scenario', file, '--no-probe', '--json']).done;
    const checks = JSON.parse(doc.stdout) as Array<{ section: string; name: string; status: string; detail: string }>;
    const ofBox = checks.filter((c) => c.section === 'host box');
    expect(ofBox.find((c) => c.name === 'SSH')).toMatchObject({ status: 'ok' });
    expect(ofBox.find((c) => c.name === 'SSH')?.detail).toContain('matches known_hosts');
    expect(ofBox.find((c) => c.name === 'Docker Engine (ssh)')).toMatchObject({ status: 'ok' });

    // A host key that does not match known_hosts is refused before anything runs there.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp, 'other_host_key')]);
    const other = readFileSync(join(tmp, 'other_host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    writeFileSync(join(tmp, 'wrong_known_hosts'), `[127.0.0.1]:${sshd.port} ${other}\n`);
    const badFile = join(tmp, 'remote-badkey.yaml');
    writeFileSync(badFile, readFileSync(file, 'utf8').replace(sshd.knownHostsPath, join(tmp, 'wrong_known_hosts')));
    const bad = await bench(['doctor', '--host', `box=${sshd.url}`, '--scenario', badFile, '--no-probe', '--json']).done;
    const badSsh = (JSON.parse(bad.stdout) as typeof checks).find((c) => c.section === 'host box' && c.name === 'SSH');
    expect(badSsh?.status).toBe('fail');
    expect(badSsh?.detail).toMatch(/host key/i);
    expect(bad.code).toBe(3);

    // gc --host finds nothing of this run left (the run cleaned up after itself).
    const gc = await bench(['gc', '--host', `box=${sshd.url}`, '--scenario', file, '--run', runId]).done;
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout + gc.stderr).toMatch(/box: removed 0 container\(s\), 0 snapshot image\(s\); 0 qemu process\(es\) killed, 0 scratch dir\(s\) removed/);

    await expectNothingLeft(runId);
  });

  it('a connection cut while QEMU starts there fails that step as host_unreachable, the run goes on over a new connection, nothing is left', async () => {
    const file = scenario(
      'remote-cut',
      ['{ name: vm, kind: qemu, cpus: 1, memory: 1GiB, accel: tcg, boot_timeout: 300s, host: box }', '{ name: container, kind: docker, cpus: 1, memory: 1GiB, host: box }'],
      '  startup: { repetitions: 1, warmup: 0, timeout: 300s }',
    );
    const started = Date.now();
    const run = bench(['run', file, '--results', join(tmp, 'results'), '--host', `box=${sshd.url}`]);
    // Cut the connection as soon as this run's QEMU is running on the host (seconds into its boot).
    let runId: string | null = null;
    await eventually(() => {
      runId ??= runIdOf(run.stderr());
      return (runId !== null && qemuOf(runId).length > 0) || run.child.exitCode !== null;
    }, 120_000);
    expect(runId !== null && qemuOf(runId).length > 0, run.stderr().slice(-2000)).toBe(true);
    const vm = qemuOf(runId!);
    expect(sshd.killConnections().length).toBeGreaterThan(0);
    // QEMU is tied to the connection: it dies with it.
    expect(await eventually(() => vm.every((pid) => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')), 10_000)).toBe(true);

    const r = await run.done;
    expect(r.code, r.stderr.slice(-3000)).toBe(3); // the run completed, with a failed step
    const record = JSON.parse(readFileSync(join(tmp, 'results', runId!, 'run.json'), 'utf8')) as RunRecord;
    expect(record.status).toBe('completed');
    expect(record.failures?.length).toBeGreaterThan(0);
    expect(record.failures?.[0]).toMatchObject({ measurement: 'startup', platform: 'vm', category: 'host_unreachable' });
    expect(record.warnings.some((w) => w.includes('host_unreachable'))).toBe(true);
    expect(r.stderr).toMatch(/\d+ steps? failed: \d+ host_unreachable/);
    // The run went on after the loss: the container's startup was measured over a new connection.
    const startups = readSamples(join(tmp, 'results', runId!, 'samples.jsonl')).filter((s) => s.metric === 'startup');
    expect(startups.map((s) => s.platform)).toEqual(['container']);
    expect(Date.now() - started).toBeLessThan(150_000);

    await expectNothingLeft(runId!);
  });

  it('a controller killed mid-run (SIGKILL) leaves only what bench gc --host removes', async () => {
    // memory settles 30 s with the container up: time to kill the controller while it runs there.
    const file = scenario('remote-crash', ['{ name: container, kind: docker, cpus: 1, memory: 1GiB, host: box }'], '  memory: { settle: 30s }');
    const run = bench(['run', file, '--results', join(tmp, 'results'), '--host', `box=${sshd.url}`]);
    let runId: string | null = null;
    await eventually(async () => {
      runId ??= runIdOf(run.stderr());
      return (runId !== null && (await containersOf(runId)) > 0) || run.child.exitCode !== null;
    }, 120_000);
    expect(runId !== null && (await containersOf(runId)) > 0, run.stderr().slice(-2000)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    // The helper and every session of the SSH user end with the connection; the container stays (no one to stop it).
    expect(await eventually(() => sshd.userPids().length === 0, 10_000)).toBe(true);
    expect(await containersOf(runId!)).toBe(1);
    const gc = await bench(['gc', '--host', `box=${sshd.url}`, '--scenario', file, '--run', runId!]).done;
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout + gc.stderr).toMatch(/box: removed 1 container\(s\)/);
    await expectNothingLeft(runId!);
  });
});
