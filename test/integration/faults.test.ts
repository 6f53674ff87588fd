import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/paths.js';
import { DockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import { freePort } from '../../src/platforms/host/ports.js';
import { readJournal } from '../../src/results/journal.js';
import { buildArtifact } from '../../src/workload/build/build.js';
import { bin, listeningAddresses, PrivateDockerd, processesNaming, readRecord, root, RUN_LINE, startCli } from './fault-support.js';

// Faults injected into real runs (real Docker, real QEMU under TCG, the real CLI from dist/): each
// affected step is recorded as failed with its category, the run goes on or stops cleanly, nothing
// is left behind, and --resume completes what is missing.
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-faults-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const docker = new Dockerode();
const cacheDir = defaultCacheDir();

function scenario(name: string, body: string): string {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nworkload: { model: resnet18, threads: 1 }\n${body}\nrunner: { order: interleaved, seed: 1 }\nreport: { formats: [json] }\n`);
  return file;
}

async function containersOf(runId: string, d = docker): Promise<number> {
  return (await d.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).length;
}

function bench(args: string[], env: Record<string, string> = {}) {
  return execa('node', [bin, ...args], { cwd: root, reject: false, timeout: 600_000, env: { CI: '1', ...env } });
}

describe('faults in a real run', () => {
  it('a container killed mid-load fails that step as instance_died; the run goes on, exits 3, and --resume completes it', async () => {
    const results = join(tmp, 'killed');
    const file = scenario(
      'killed',
      'platforms:\n  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\nmeasurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 60s }\n' +
        '  throughput: { mode: closed, connections: [1], duration: 20s, warmup: 1s, timeout: 10s }\n  network: { requests: 50 }',
    );
    const cli = startCli(['run', file, '--results', results]);
    const runId = (await cli.waitFor(RUN_LINE, 120_000))[1]!;
    await cli.waitFor(/throughput on c/, 180_000);
    await new Promise((r) => setTimeout(r, 3_000)); // inside the load window
    const [victim] = await docker.listContainers({ filters: { label: [`vmbench.run=${runId}`] } });
    await docker.getContainer(victim!.Id).kill();
    expect(await cli.exit, cli.output()).toBe(3);
    expect(cli.output()).toMatch(/1 step failed: 1 instance_died/);
    const run = readRecord(results, runId);
    expect(run.status).toBe('completed');
    expect(run.failures?.map((f) => `${f.measurement}:${f.category}`)).toEqual(['throughput:instance_died']);
    expect(run.failures![0]!.message).toMatch(/exit code 137/);
    // The steps after it ran on a fresh instance; the failed window's samples are not counted.
    expect(run.summaries.some((s) => s.metric === 'network_rtt_p50' && (s.summary?.n ?? 0) === 1)).toBe(true);
    expect(run.summaries.some((s) => s.base === 'throughput')).toBe(false);
    expect(await containersOf(runId)).toBe(0);

    const resumed = await bench(['run', '--resume', join(results, runId)]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const done = readRecord(results, runId);
    expect(done.segments?.map((s) => s.status)).toEqual(['completed', 'completed']);
    expect(done.summaries.find((s) => s.base === 'throughput')?.summary?.n).toBe(1);
    expect(await containersOf(runId)).toBe(0);
  }, 600_000);

  it('a container above its memory limit fails as oom_killed, at once rather than at its timeout', async () => {
    const results = join(tmp, 'oom');
    const file = scenario('oom', 'platforms:\n  - { name: small, kind: docker, cpus: 1, memory: 96MiB }\nmeasurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 120s }');
    const t0 = Date.now();
    const r = await bench(['run', file, '--results', results]);
    expect(r.exitCode, r.stderr).toBe(3);
    const [runId] = readdirSync(results);
    const run = readRecord(results, runId!);
    expect(run.failures?.length).toBe(1);
    expect(run.failures?.every((f) => f.category === 'oom_killed'), JSON.stringify(run.failures)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(90_000); // the 120 s timeout never ran out
    expect(await containersOf(runId!)).toBe(0);
  }, 300_000);

  it('a Docker Engine stopped mid-run (a restart) fails the steps it misses as engine_unavailable; started again, --resume completes the run', async () => {
    const engine = new PrivateDockerd(join('/var/lib', `vmbench-test-dockerd-${process.pid}`));
    try {
      await engine.start();
      const env = { DOCKER_HOST: engine.host };
      const results = join(tmp, 'engine');
      const file = scenario('engine', 'platforms:\n  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\nmeasurements:\n  startup: { repetitions: 12, warmup: 0, timeout: 60s }');
      const cli = startCli(['run', file, '--results', results], env);
      const runId = (await cli.waitFor(RUN_LINE, 300_000))[1]!;
      await cli.waitFor(/\[3\/\d+\] startup on c/, 300_000);
      await engine.stop(); // as `systemctl stop docker`: its containers are stopped, then it is gone
      expect(await cli.exit, cli.output()).toBe(3);
      const run = readRecord(results, runId);
      const categories = new Set(run.failures?.map((f) => f.category));
      expect(categories.has('engine_unavailable'), JSON.stringify(run.failures, null, 1)).toBe(true);
      // The step in flight when the engine went down lost its container (or the engine answered errors while stopping).
      expect([...categories].every((c) => ['engine_unavailable', 'instance_died', 'infrastructure'].includes(c))).toBe(true);
      expect(Object.keys(run.completed ?? {}).length).toBeGreaterThanOrEqual(2);

      await engine.start();
      const resumed = await bench(['run', '--resume', join(results, runId)], env);
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      const done = readRecord(results, runId);
      expect(done.summaries.find((s) => s.metric === 'startup')?.summary?.n).toBe(12);
      expect(await containersOf(runId, new Dockerode({ socketPath: engine.socket }))).toBe(0);
    } finally {
      await engine.destroy();
    }
  }, 900_000);

  it('a full disk stops the run as disk_full with every sample written so far intact; with space again, --resume completes it', async () => {
    const mount = join(tmp, 'small-disk');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
    try {
      const results = join(mount, 'results');
      const file = scenario('disk', 'platforms:\n  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\nmeasurements:\n  startup: { repetitions: 8, warmup: 0, timeout: 60s }');
      const cli = startCli(['run', file, '--results', results]);
      const runId = (await cli.waitFor(RUN_LINE, 300_000))[1]!;
      await cli.waitFor(/\[3\/\d+\] startup on c/, 300_000);
      // Fill the disk: the next sample or run.json cannot be written.
      await execa('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=64k'], { reject: false });
      expect(await cli.exit, cli.output()).toBe(3);
      // run.json could not be rewritten at the end, but the last one written is whole (every write is write + rename).
      const run = readRecord(results, runId);
      expect(['running', 'failed']).toContain(run.status);
      expect(cli.output()).toMatch(/no space left on device|ENOSPC/);
      const journal = readJournal(join(results, runId, 'samples.jsonl'));
      expect(journal.samples.filter((s) => s.metric === 'startup').length).toBeGreaterThanOrEqual(2);
      expect(await containersOf(runId)).toBe(0);

      rmSync(join(mount, 'filler'));
      const resumed = await bench(['run', '--resume', join(results, runId)]);
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(readRecord(results, runId).summaries.find((s) => s.metric === 'startup')?.summary?.n).toBe(8);
    } finally {
      execFileSync('umount', ['-l', mount]);
    }
  }, 600_000);

  it('SIGKILL of the harness: bench gc finds what the dead run left (its VM, its scratch dir) and --resume completes the run', async () => {
    const results = join(tmp, 'sigkill');
    const file = scenario(
      'sigkill',
      'platforms:\n  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\n  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, machine: pc }\nmeasurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 300s }',
    );
    const cli = startCli(['run', file, '--results', results]);
    const runId = (await cli.waitFor(RUN_LINE, 300_000))[1]!;
    const deadline = Date.now() + 300_000;
    // Until its VM runs with its forwards bound (QEMU binds them a moment after exec; on a loaded host
    // that moment was seen to pass the kill): then the harness dies.
    const running = () => processesNaming(runId).some((pid) => listeningAddresses(pid).length >= 2);
    while (!running()) {
      if (Date.now() > deadline) throw new Error(`no VM of ${runId} started:\n${cli.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    cli.child.kill('SIGKILL');
    await cli.exit;
    const left = processesNaming(runId);
    expect(left.length).toBeGreaterThan(0); // left behind by the dead harness
    // Its forwarded ports (server, SSH) exist from launch on, on 127.0.0.1 only.
    const addrs = listeningAddresses(left[0]!);
    expect(addrs.length).toBeGreaterThanOrEqual(2);
    expect(addrs.every((a) => a.startsWith('127.0.0.1:')), addrs.join(' ')).toBe(true);
    // And it is not root: setup's vmbench-qemu user (the harness runs as root here).
    expect(execFileSync('cat', [`/proc/${left[0]}/status`]).toString()).toMatch(new RegExp(`^Uid:\\s+${execFileSync('id', ['-u', 'vmbench-qemu']).toString().trim()}\\s`, 'm'));
    expect(existsSync(join(cacheDir, 'owners', `${runId}.json`))).toBe(true);

    const dry = await bench(['gc', '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`would remove ${runId}: .*qemu process.*its process \\(pid \\d+\\) is gone`));
    const gc = await bench(['gc', '--run', runId]);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(processesNaming(runId)).toEqual([]);
    expect(await containersOf(runId)).toBe(0);
    expect(existsSync(join(cacheDir, 'runs', runId))).toBe(false);
    expect(existsSync(join(cacheDir, 'owners', `${runId}.json`))).toBe(false);

    const resumed = await bench(['run', '--resume', join(results, runId)]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const done = readRecord(results, runId);
    expect(done.segments?.map((s) => s.status)).toEqual(['interrupted', 'completed']);
    expect(done.summaries.filter((s) => s.metric === 'startup').map((s) => s.summary?.n)).toEqual([1, 1]);
    expect(processesNaming(runId)).toEqual([]);
  }, 900_000);

  it('a VM that never gets ready fails as boot_timeout; a QEMU killed with -9 as instance_died within seconds; nothing is left', async () => {
    const results = join(tmp, 'vm');
    const slow = scenario('vmslow', 'platforms:\n  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, machine: pc }\nmeasurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 5s }');
    const r = await bench(['run', slow, '--results', results]);
    expect(r.exitCode, r.stderr).toBe(3);
    const slowId = readdirSync(results)[0]!;
    expect(readRecord(results, slowId).failures?.map((f) => f.category)).toEqual(['boot_timeout']);
    expect(processesNaming(slowId)).toEqual([]);

    const killed = join(tmp, 'vm-killed');
    const file = scenario('vmkill', 'platforms:\n  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, machine: pc }\nmeasurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 300s }');
    const cli = startCli(['run', file, '--results', killed]);
    const runId = (await cli.waitFor(RUN_LINE, 300_000))[1]!;
    const deadline = Date.now() + 300_000;
    let pids: number[] = [];
    while ((pids = processesNaming(runId)).length === 0) {
      if (Date.now() > deadline) throw new Error(`no VM of ${runId} started:\n${cli.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const t0 = Date.now();
    for (const p of pids) process.kill(p, 'SIGKILL');
    expect(await cli.exit, cli.output()).toBe(3);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const run = readRecord(killed, runId);
    expect(run.failures?.map((f) => f.category)).toEqual(['instance_died']);
    expect(run.failures![0]!.message).toMatch(/signal SIGKILL|process gone/);
    expect(existsSync(join(cacheDir, 'runs', runId))).toBe(false);
  }, 600_000);
});

describe('least privilege, read back from the engines', () => {
  it('the workload container runs unprivileged, read-only and limited, and listens on 127.0.0.1 only (a VM: see the SIGKILL test)', async () => {
    const artifact = await buildArtifact({ cacheDir, model: 'resnet18', seed: 42, docker });
    const platform = new DockerPlatform('c', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker);
    await platform.prepare(artifact);
    const runId = `privtest-${process.pid}`;
    const inst = await platform.launch({ runId, instanceId: 'c-0', port: await freePort(), threads: 1, modelName: 'model' });
    try {
      const info = await docker.getContainer(String(inst.facts.containerId)).inspect();
      expect(info.Config.User).toBe('10001:10001');
      expect(info.HostConfig.CapDrop).toEqual(['ALL']);
      expect(info.HostConfig.CapAdd ?? []).toEqual([]);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(info.HostConfig.Memory).toBe(2 ** 30);
      expect(info.HostConfig.NanoCpus).toBe(1e9);
      // The server, as the kernel sees it: uid 10001, no effective capabilities.
      const status = execFileSync('cat', [`/proc/${info.State.Pid}/status`]).toString();
      expect(status).toMatch(/^Uid:\s+10001\s/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      const deadline = Date.now() + 60_000;
      let addrs: string[] = [];
      while ((addrs = listeningAddresses(info.State.Pid)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(addrs.length).toBeGreaterThan(0);
      expect(addrs.every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
    } finally {
      await platform.stop(inst);
      await platform.cleanupRun(runId);
    }
    expect(await containersOf(runId)).toBe(0);
  }, 600_000);

  it('a port already taken fails the instance as port_conflict, from what the server said before it exited', async () => {
    const artifact = await buildArtifact({ cacheDir, model: 'resnet18', seed: 42, docker });
    const platform = new DockerPlatform('c', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker);
    await platform.prepare(artifact);
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    const runId = `porttest-${process.pid}`;
    const inst = await platform.launch({ runId, instanceId: 'c-0', port, threads: 1, modelName: 'model' });
    try {
      const deadline = Date.now() + 60_000;
      let pm = await platform.postMortem(inst);
      while (!pm && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        pm = await platform.postMortem(inst);
      }
      expect(pm?.category).toBe('port_conflict');
      expect(pm?.detail).toMatch(/EADDRINUSE/);
    } finally {
      taken.close();
      await platform.stop(inst);
      await platform.cleanupRun(runId);
    }
  }, 300_000);
});
