import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { FakePlatform, type FakePlatformOptions } from '../../src/platforms/fake.js';
import { readSamples } from '../../src/results/journal.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { executeRun } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Artifact } from '../../src/workload/artifact.js';

// The runner's order, journaling and cleanup, with a fake substrate (in-process HTTP servers).
const scenario = parseScenario(
  [
    'name: fake',
    'workload: { model: resnet18 }',
    'platforms:',
    '  - { name: a, kind: docker, cpus: 1, memory: 1GiB }',
    '  - { name: b, kind: qemu, cpus: 1, memory: 1GiB }',
    'measurements:',
    '  startup: { repetitions: 2, warmup: 1, timeout: 5s }',
    '  cold_start: { repetitions: 2, timeout: 5s }',
  ].join('\n'),
  'fake.yaml',
);

const artifact: Artifact = {
  id: 'f'.repeat(64), rootfsDigest: 'd'.repeat(64), dir: '/nonexistent', debianSuite: 'bookworm', createdAt: new Date().toISOString(),
  docker: { image: 'fake' },
  vm: { disk: '/x', kernel: '/x', initrd: '/x', kernelVersion: 'fake', diskBytes: 0, kernelBytes: 0, initrdBytes: 0 },
  model: { name: 'fake', source: 'fake', sha256: '0', bytes: 0 },
};

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(a: FakePlatformOptions = {}, b: FakePlatformOptions = {}, signal = new AbortController().signal) {
  const resultsRoot = mkdtempSync(join(tmpdir(), 'vmbench-run-'));
  dirs.push(resultsRoot);
  const platforms = [new FakePlatform('a', a), new FakePlatform('b', b)];
  const run = executeRun(
    {
      scenario, scenarioFile: 'fake.yaml', resultsRoot, projectDir: resultsRoot, vmbenchVersion: 'test',
      artifact: async () => artifact, inputElements: async () => 10, platforms, signal, onEvent: () => undefined,
    },
    'run-1',
  );
  const read = () => ({
    run: JSON.parse(readFileSync(join(resultsRoot, 'run-1', 'run.json'), 'utf8')) as RunRecord,
    samples: readSamples(join(resultsRoot, 'run-1', 'samples.jsonl')),
  });
  return { run, read, platforms };
}

describe('executeRun', () => {
  it('checks identity, interleaves platforms, journals every sample, stops every instance', async () => {
    const { run, read, platforms } = setup();
    const outcome = await run;
    expect(outcome.record.status).toBe('completed');
    expect(outcome.record.identity?.agreed).toBe(true);
    const { run: onDisk, samples } = read();
    expect(onDisk.status).toBe('completed');
    expect(samples.map((s) => `${s.metric}:${s.platform}:${s.rep}${s.warmup ? 'w' : ''}`)).toEqual([
      'startup:a:0w', 'startup:b:0w', 'startup:a:1', 'startup:b:1', 'startup:a:2', 'startup:b:2',
      'cold_start:a:0', 'cold_start:b:0', 'cold_start:a:1', 'cold_start:b:1',
    ]);
    expect(samples.every((s) => s.unit === 'ms' && s.value > 0 && s.metadata.rootfs_digest_inside === artifact.rootfsDigest)).toBe(true);
    // warmups are journaled but not summarised
    expect(onDisk.summaries.find((r) => r.metric === 'startup' && r.platform === 'a')?.summary?.n).toBe(2);
    // No docker platform among the fakes: the reference is the first platform.
    expect(onDisk.reference).toBe('a');
    expect(onDisk.ratios.map((r) => `${r.metric}:${r.numerator}÷${r.denominator}`)).toEqual(['startup:b÷a', 'cold_start:b÷a']);
    for (const p of platforms) expect(p.running.size).toBe(0);
    // No launch for a server check (the built-in server's conformance is tested, not checked per run),
    // none of its own for the identity proof: it rides on the first cold start.
    expect(platforms[0]!.launched).toEqual(['a-startup-0', 'a-startup-1', 'a-startup-2', 'a-coldstart-0', 'a-coldstart-1']);
    expect(platforms[1]!.launched[0]).toBe('b-startup-0');
    expect(onDisk.server).toMatchObject({ workload: 'builtin', protocol: 'v2', checked: false, passed: null, platform: null, modelName: 'model', checks: [] });
    expect(onDisk.server!.reason).toContain('conformance.test.ts');
    expect(onDisk.server!.request).toMatchObject({ method: 'POST', path: '/v2/models/model/infer', contentType: 'application/octet-stream', bytes: 40, source: 'builtin' });
    expect(onDisk.timing?.launches).toBe(10);
    expect(onDisk.timing!.measuredMs).toBeLessThanOrEqual(onDisk.timing!.wallMs);
    expect(Object.keys(onDisk.timing!.byMeasurement).sort()).toEqual(['cold_start', 'image_size', 'startup']);
  });

  it('a failed step is recorded with its category and the run goes on; nothing is left running', async () => {
    const { run, read, platforms } = setup({}, { failLaunchAt: 3 });
    const outcome = await run;
    const { run: onDisk, samples } = read();
    expect(onDisk.status).toBe('completed');
    // b's 4th launch is its first cold start: that step fails, the others run.
    expect(onDisk.failures).toEqual([expect.objectContaining({ measurement: 'cold_start', platform: 'b', rep: 0, category: 'infrastructure', segment: 0 })]);
    expect(onDisk.failures![0]!.message).toMatch(/failed on purpose/);
    expect(samples.map((s) => `${s.metric}:${s.platform}:${s.rep}`).filter((x) => x.startsWith('cold_start'))).toEqual(['cold_start:a:0', 'cold_start:a:1', 'cold_start:b:1']);
    expect(onDisk.summaries.find((r) => r.metric === 'cold_start' && r.platform === 'b')?.summary?.n).toBe(1);
    // The identity proof planned on the failed step is taken on b's next checked instance.
    expect(onDisk.identity?.platforms.map((p) => p.platform)).toEqual(['a', 'b']);
    expect(Object.keys(onDisk.completed!)).toHaveLength(onDisk.plan.steps - 1);
    expect(outcome.record.warnings.some((w) => /failed \(infrastructure\)/.test(w))).toBe(true);
    for (const p of platforms) expect(p.running.size).toBe(0);
  });

  it('aborts when a substrate computes a different output', async () => {
    const { run, read } = setup({}, { outputOffset: 1e-3 });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('mismatch');
    const { run: onDisk, samples } = read();
    expect(onDisk.identity?.agreed).toBe(false);
    expect(onDisk.identity?.platforms.find((p) => p.platform === 'b')?.agree).toBe(false);
    // The proof rides on each platform's first cold start: b's never became a sample.
    expect(samples.filter((x) => x.metric === 'cold_start').map((x) => x.platform)).toEqual(['a']);
  });

  it('aborts when an instance reports another rootfs digest', async () => {
    const { run } = setup({}, { digest: 'e'.repeat(64) });
    await expect(run).rejects.toMatchObject({ kind: 'mismatch' });
  });

  it('an interrupt stops the run and marks it interrupted', async () => {
    const controller = new AbortController();
    const { run, read, platforms } = setup({ readyAfterMs: 300 }, { readyAfterMs: 300 }, controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toMatchObject({ kind: 'interrupted' });
    expect(read().run.status).toBe('interrupted');
    for (const p of platforms) expect(p.running.size).toBe(0);
  });
});

describe('executeRun with density', () => {
  it('journals the density curve and stops every instance it started', async () => {
    const densityScenario = parseScenario(
      [
        'name: fake-density',
        'workload: { model: resnet18 }',
        'platforms:',
        '  - { name: a, kind: docker, cpus: 1, memory: 1GiB }',
        'measurements:',
        '  density: { max_instances: 5, memory_budget: 350MiB, slo_p99: 2s }',
      ].join('\n'),
      'fake.yaml',
    );
    const resultsRoot = mkdtempSync(join(tmpdir(), 'vmbench-run-'));
    dirs.push(resultsRoot);
    const platform = new FakePlatform('a', { memoryPerInstanceBytes: 100 * 2 ** 20 });
    await executeRun(
      {
        scenario: densityScenario, scenarioFile: 'fake.yaml', resultsRoot, projectDir: resultsRoot, vmbenchVersion: 'test',
        artifact: async () => artifact, inputElements: async () => 10, platforms: [platform], signal: new AbortController().signal, onEvent: () => undefined,
      },
      'run-d',
    );
    const samples = readSamples(join(resultsRoot, 'run-d', 'samples.jsonl'));
    expect(samples.find((s) => s.metric === 'density_max_instances')?.value).toBe(3);
    const curve = samples.filter((s) => s.metric === 'density_memory');
    expect(curve.map((s) => s.params?.instances)).toEqual(curve.map((_, i) => i + 1));
    expect(curve.length).toBeGreaterThanOrEqual(3);
    expect(platform.running.size).toBe(0);
  }, 60_000);
});

describe('stampSample', () => {
  it('stamps platform, kind, rep and warm-up, merges instance facts and bounds runaway metadata text', async () => {
    const { stampSample, MAX_METADATA_TEXT } = await import('../../src/runner/step-context.js');
    const p = new FakePlatform('a');
    const s = stampSample(
      { metric: 'throughput', params: { connections: 2 }, value: 5, unit: 'req/s', metadata: { note: 'x'.repeat(MAX_METADATA_TEXT + 10), small: 'ok' } },
      p,
      { rep: 3, warmup: true },
    );
    expect(s).toMatchObject({ metric: 'throughput', params: { connections: 2 }, platform: 'a', kind: 'fake', rep: 3, warmup: true });
    expect(String(s.metadata.note).length).toBeLessThan(MAX_METADATA_TEXT + 40);
    expect(String(s.metadata.note)).toMatch(/10 characters cut/);
    expect(s.metadata.small).toBe('ok');
  });
});
