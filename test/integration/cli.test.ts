import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { readSamples } from '../../src/results/journal.js';
import type { RunRecord } from '../../src/results/run-record.js';

// The real CLI (dist/, built by `npm test`) end to end: real Docker, real QEMU.
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bench(args: string[], opts: { timeout?: number } = {}) {
  return execa('node', [bin, ...args], { cwd: root, reject: false, timeout: opts.timeout ?? 900_000, env: { CI: '1' } });
}

function qemuProcessesOf(runId: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const exe = argv[0]?.split('/').pop() ?? '';
      if (exe.startsWith('qemu-system') && argv.some((a) => a.startsWith(`vmbench-${runId}-`))) n += 1;
    } catch {
      // process went away
    }
  }
  return n;
}

async function containersOf(runId: string): Promise<number> {
  return (await new Dockerode().listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).length;
}

describe('bench CLI', () => {
  it('--version and --help', async () => {
    const v = await bench(['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await bench(['run', '--help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toContain('Exit codes');
  });

  it('validate: a malformed scenario exits 2 naming file:line:column and the key', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, 'name: bad\nworkload:\n  model: resnet18\nplatforms:\n  - name: c\n    kind: docker\n    cpus: 1\n    memory: 2 gigs\nmeasurements:\n  startup: {}\n');
    const r = await bench(['validate', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}:8:13`);
    expect(r.stderr).toContain('platforms[0].memory');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('run: a GPU scenario on a host without a GPU fails fast and says why', async () => {
    const t0 = Date.now();
    const r = await bench(['run', 'scenarios/gpu-resnet.yaml', '--results', join(tmp, 'gpu')]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/GPU/);
    expect(r.stderr).toContain('bench doctor');
    expect(Date.now() - t0).toBeLessThan(15_000);
    // What is missing, each at its key, and where to go instead; nothing was built or started.
    expect(r.stderr).toMatch(/gpu-resnet\.yaml:\d+:\d+: workload\.device: device: gpu cannot run on this host \(what it lacks is listed at each key\); scenarios\/cpu-resnet\.yaml runs the same workload on CPU/);
    expect(r.stderr).toMatch(/workload\.gpu\.providers: libonnxruntime_providers_cuda\.so \(needed by ONNX Runtime \(CUDA execution provider\)\) is missing: get from the Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux/);
    expect(r.stderr).not.toContain('building the workload artifact');
    // bench doctor with the scenario says the same, as failures.
    const d = await bench(['doctor', '--no-probe', '--scenario', 'scenarios/gpu-resnet.yaml']);
    expect(d.exitCode).toBe(3);
    expect(d.stdout).toMatch(/✗ scenario \S*gpu-resnet\.yaml:\d+:\d+ workload\.device: device: gpu cannot run on this host \(what it lacks is listed at each key\); scenarios\/cpu-resnet\.yaml runs the same workload on CPU/);
    // Line for line: every problem the run placed at a key, the doctor places at the same file:line:column.
    const placed = [...r.stderr.matchAll(/^(\S+:\d+:\d+): (\S+): (.*)$/gm)].map((m) => `✗ scenario ${m[1]} ${m[2]}: ${m[3]}`);
    expect(placed.length).toBeGreaterThan(5);
    for (const line of placed) expect(d.stdout).toContain(line);
    expect(existsSync(join(tmp, 'gpu'))).toBe(false); // no results directory for a run that never started
  });

  it('run: smoke scenario end to end on Docker and QEMU', async () => {
    const results = join(tmp, 'smoke');
    const r = await bench(['run', 'scenarios/smoke.yaml', '--results', results]);
    expect(r.exitCode, r.stderr).toBe(0);
    // The answer first: the smoke scenario gives the container 2 CPUs and the VM 1, so the summary opens with that.
    expect(r.stderr).toContain('⚠ fairness: unequal CPUs: container 2 CPUs, vm 1 CPU');
    expect(r.stdout.trimStart()).toMatch(/^⚠ unequal resources — cpus: container 2 CPUs, vm 1 CPU/);
    expect(r.stdout).toMatch(/^Decision: /m);
    expect(r.stdout).toMatch(/^ {2}Startup time +container .* vm .*×/m);
    expect(r.stdout).toContain('full metric table: bench run --full');
    const [runId] = readdirSync(results);
    const run = JSON.parse(readFileSync(join(results, runId!, 'run.json'), 'utf8')) as RunRecord;
    expect(run.status).toBe('completed');
    const vm = Object.values(run.environment.platforms).find((p) => p.kind === 'qemu')!;
    expect(['kvm', 'tcg']).toContain(vm.accel);
    expect(run.environment.platforms.container?.engineVersion).toBeTruthy();
    expect(run.artifact?.rootfsDigest).toMatch(/^[0-9a-f]{64}$/);
    // Identity: both substrates ran the same rootfs (read from inside) and agreed on the fixed input.
    expect(run.identity?.agreed).toBe(true);
    expect(run.identity?.platforms.map((p) => p.platform).sort()).toEqual(['container', 'vm']);
    for (const p of run.identity!.platforms) {
      expect(p.rootfsDigestInside).toBe(run.artifact!.rootfsDigest);
      expect(p.outputShape).toEqual([1, 1000]);
      expect(p.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    }
    const samples = readSamples(join(results, runId!, 'samples.jsonl'));
    for (const kind of ['docker', 'qemu']) {
      for (const metric of ['startup', 'cold_start']) {
        const mine = samples.filter((s) => s.kind === kind && s.metric === metric && !s.warmup);
        expect(mine.length, `${kind} ${metric}`).toBe(2);
        for (const s of mine) {
          expect(s.unit).toBe('ms');
          expect(s.value).toBeGreaterThan(0);
          expect(s.metadata.rootfs_digest_inside).toBe(run.artifact!.rootfsDigest);
        }
      }
    }
    // Image size: one sample per platform, from the engine and from the files on disk.
    const sizes = samples.filter((s) => s.metric === 'image_size');
    expect(sizes.map((s) => s.kind).sort()).toEqual(['docker', 'qemu']);
    for (const s of sizes) expect(s.value).toBeGreaterThan(50); // MiB: a real rootfs with node, ORT and the model
    expect(r.stdout).toMatch(/^ {2}Image size +container /m);
    // Memory: one reading per platform; the host side holds at least the workload.
    for (const kind of ['docker', 'qemu']) {
      const host = samples.find((s) => s.kind === kind && s.metric === 'memory_host')!;
      const pss = samples.find((s) => s.kind === kind && s.metric === 'memory_workload_pss')!;
      expect(pss.value, kind).toBeGreaterThan(100);
      expect(host.value, kind).toBeGreaterThanOrEqual(pss.value);
    }
    // Startup phases: present where they apply, absent (not zero) where they do not.
    const phasesOf = (kind: string) => new Set(samples.filter((s) => s.kind === kind && s.metric.startsWith('phase_')).map((s) => s.metric));
    expect(phasesOf('docker').has('phase_ready')).toBe(true);
    expect(phasesOf('docker').has('phase_kernel_init')).toBe(false);
    expect(phasesOf('qemu').has('phase_kernel_init')).toBe(true);
    expect(phasesOf('qemu').has('phase_model_loaded')).toBe(true);
    // Network RTT of the no-inference endpoint, both substrates.
    for (const kind of ['docker', 'qemu']) {
      const rtt = samples.find((s) => s.kind === kind && s.metric === 'network_rtt_p50')!;
      expect(rtt.value, kind).toBeGreaterThan(0);
      expect(rtt.metadata.requests, kind).toBe(200);
    }
    // Snapshot/restore: a restored instance answers; the VM's restore beats its fresh boot.
    const snap = (kind: string, metric: string) => samples.find((s) => s.kind === kind && s.metric === metric)?.value;
    expect(snap('docker', 'snapshot_restore')).toBeGreaterThan(0);
    expect(snap('qemu', 'snapshot_restore')).toBeLessThan(snap('qemu', 'snapshot_fresh')!);
    expect(snap('qemu', 'snapshot_size')).toBeGreaterThan(50);
    // The snapshot rode on each platform's last cold start (no launch of its own); the VM's
    // process memory came back (raw and gzip migration files both restored), the container's did not.
    const meta = (kind: string) => samples.find((s) => s.kind === kind && s.metric === 'snapshot_restore')!.metadata;
    for (const kind of ['docker', 'qemu']) {
      const colds = samples.filter((s) => s.kind === kind && s.metric === 'cold_start').map((s) => s.value);
      expect(colds, kind).toContain(snap(kind, 'snapshot_fresh'));
    }
    expect(meta('qemu').process_memory).toBe(true);
    expect(String(meta('qemu').variants)).toMatch(/raw.*gzip|gzip.*raw/s);
    expect(meta('docker').process_memory).toBe(false);
    expect(String(meta('docker').method)).toMatch(/FILESYSTEM ONLY/);
    // Every launch carried a measurement: 2 × 2 startups, 2 × 2 cold starts, 3 restores (docker commit; qemu raw, gzip).
    expect(run.timing?.launches).toBe(11);
    expect(run.timing!.measuredMs).toBeLessThan(run.timing!.wallMs);
    if (vm.accel === 'tcg') expect(r.stdout).toMatch(/TCG/);
    expect(existsSync(join(results, runId!, 'summary.md'))).toBe(true);
    // Reports (scenario report.formats: html, decision, charts, exports) go to reports/<run-id> under the working directory.
    const reports = join(root, 'reports', runId!);
    try {
      expect(r.stdout).toContain(`report: ${reports}/`);
      for (const f of ['report.html', 'decision.md', 'samples.csv', 'charts/cold-start.vl.json', 'charts/cold-start.svg', 'charts/cold-start.png', 'charts/startup-phases.svg']) {
        expect(existsSync(join(reports, f)), f).toBe(true);
      }
      expect(readFileSync(join(reports, 'decision.md'), 'utf8')).toContain('## Containers vs VMs: the claims, re-derived from this run');
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
    expect(await containersOf(runId!)).toBe(0);
    expect(qemuProcessesOf(runId!)).toBe(0);
  }, 900_000); // ≈ 5 min alone here; a shared 2-core host has taken > 8 (two VM boots under TCG, a gzip'd snapshot)

  it('run: Ctrl-C mid-run keeps measured samples and leaves no container or VM', async () => {
    const scenario = join(tmp, 'long.yaml');
    writeFileSync(
      scenario,
      [
        'name: interrupt-me',
        'workload: { model: resnet18, threads: 1 }',
        'platforms:',
        '  - { name: c, kind: docker, cpus: 1, memory: 1GiB }',
        '  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, accel: tcg }',
        'measurements:',
        '  startup: { repetitions: 50, warmup: 0, timeout: 120s }',
      ].join('\n'),
    );
    const results = join(tmp, 'interrupt');
    const child = spawn('node', [bin, 'run', scenario, '--results', results], { cwd: root, env: { ...process.env, CI: '1' }, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await interruptAndCheck();
    } finally {
      // If an assertion failed before the signal, do not leave a 50-repetition run behind.
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }

    async function interruptAndCheck() {
      // Wait until the VM of the second step is running (a sample exists and a qemu process is up).
      const deadline = Date.now() + 300_000;
      let runId = '';
      for (;;) {
        if (Date.now() > deadline) throw new Error('run never got going');
        await new Promise((r) => setTimeout(r, 200));
        runId = existsSync(results) ? (readdirSync(results)[0] ?? '') : '';
        if (!runId) continue;
        const samplesFile = join(results, runId, 'samples.jsonl');
        if (existsSync(samplesFile) && readSamples(samplesFile).length >= 1 && qemuProcessesOf(runId) > 0) break;
      }
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const run = JSON.parse(readFileSync(join(results, runId, 'run.json'), 'utf8')) as RunRecord;
      expect(run.status).toBe('interrupted');
      expect(readSamples(join(results, runId, 'samples.jsonl')).length).toBeGreaterThanOrEqual(1);
      expect(await containersOf(runId)).toBe(0);
      expect(qemuProcessesOf(runId)).toBe(0);
      expect(existsSync(join(root, '.bench', 'runs', runId))).toBe(false);
    }
  });
});
