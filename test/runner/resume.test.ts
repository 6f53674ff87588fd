import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakePlatform, type FakePlatformOptions } from '../../src/platforms/fake.js';
import { readRun } from '../../src/results/read-run.js';
import type { Sample } from '../../src/results/sample.js';
import { executeRun, type RunContext } from '../../src/runner/run.js';
import type { RunEvent } from '../../src/runner/events.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Artifact } from '../../src/workload/artifact.js';

// Resume and per-step failures, with the fake substrate (in-process HTTP servers on 127.0.0.1).
const yaml = (startupReps: number, timeout = '5s') =>
  [
    'name: fake-resume',
    'workload: { model: resnet18 }',
    'platforms:',
    '  - { name: a, kind: docker, cpus: 1, memory: 1GiB }',
    '  - { name: b, kind: qemu, cpus: 1, memory: 1GiB }',
    'measurements:',
    `  startup: { repetitions: ${startupReps}, warmup: 1, timeout: ${timeout} }`,
    `  cold_start: { repetitions: 2, timeout: ${timeout} }`,
    '  network: { requests: 20 }',
  ].join('\n');

const artifact: Artifact = {
  id: 'f'.repeat(64), rootfsDigest: 'd'.repeat(64), dir: '/nonexistent', debianSuite: 'bookworm', createdAt: new Date().toISOString(),
  docker: { image: 'fake' },
  vm: { disk: '/x', kernel: '/x', initrd: '/x', kernelVersion: 'fake', diskBytes: 0, kernelBytes: 0, initrdBytes: 0 },
  model: { name: 'fake', source: 'fake', sha256: '0', bytes: 0 },
};

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function context(resultsRoot: string, o: { yaml?: string; a?: FakePlatformOptions; b?: FakePlatformOptions; signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {}): RunContext & { platforms: FakePlatform[] } {
  const platforms = [new FakePlatform('a', o.a), new FakePlatform('b', o.b)];
  return {
    scenario: parseScenario(o.yaml ?? yaml(2), 'fake.yaml'), scenarioFile: 'fake.yaml', resultsRoot, projectDir: resultsRoot, vmbenchVersion: 'test',
    artifact: async () => artifact, inputElements: async () => 10,
    platforms,
    signal: o.signal ?? new AbortController().signal, onEvent: o.onEvent ?? (() => undefined),
    cacheDir: join(resultsRoot, 'cache'),
  };
}

function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'vmbench-resume-'));
  dirs.push(d);
  return d;
}

/** What a report is built from, without the timings: which samples count, per series. */
const shape = (samples: Sample[]) => samples.map((s) => `${s.metric}${s.params ? JSON.stringify(s.params) : ''}:${s.platform}:${s.rep}${s.warmup ? 'w' : ''}`).sort();

/** Runs until the step with this index starts, then interrupts (as SIGINT does). */
async function interruptedAt(resultsRoot: string, stepIndex: number, id: string): Promise<void> {
  const controller = new AbortController();
  const ctx = context(resultsRoot, { signal: controller.signal, onEvent: (e) => e.type === 'step' && e.index === stepIndex && controller.abort() });
  await expect(executeRun(ctx, id)).rejects.toMatchObject({ kind: 'interrupted' });
  for (const p of ctx.platforms) expect(p.running.size).toBe(0);
}

describe('bench run --resume', () => {
  it('continues an interrupted run and counts the same samples a single run would', async () => {
    const single = root();
    await executeRun(context(single), 'whole');
    const whole = readRun(join(single, 'whole'));

    const r = root();
    await interruptedAt(r, 9, 'cut');
    const cut = readRun(join(r, 'cut'), { every: true });
    expect(cut.record.status).toBe('interrupted');
    expect(cut.record.segments?.map((s) => s.status)).toEqual(['interrupted']);
    const doneBefore = Object.keys(cut.record.completed!).length;
    expect(doneBefore).toBeGreaterThan(0);
    expect(doneBefore).toBeLessThan(cut.record.plan.steps);
    // The owner marker goes once the interrupted run has cleaned up.
    expect(existsSync(join(r, 'cache', 'owners', 'cut.json'))).toBe(false);

    const ctx = context(r, { onEvent: () => undefined });
    const fakes = ctx.platforms as FakePlatform[];
    const outcome = await executeRun({ ...ctx, resume: cut }, 'ignored');
    expect(outcome.dir).toBe(join(r, 'cut'));
    const resumed = readRun(join(r, 'cut'));
    expect(resumed.record.status).toBe('completed');
    expect(resumed.record.segments?.map((s) => s.status)).toEqual(['interrupted', 'completed']);
    expect(resumed.record.segments![1]!.stepsRun).toBe(resumed.record.plan.steps - doneBefore);
    expect(Object.keys(resumed.record.completed!)).toHaveLength(resumed.record.plan.steps);
    expect(shape(resumed.samples)).toEqual(shape(whole.samples));
    expect(resumed.record.summaries.map((x) => `${x.metric}:${x.platform}:${x.summary?.n}`)).toEqual(
      whole.record.summaries.map((x) => `${x.metric}:${x.platform}:${x.summary?.n}`),
    );
    expect(resumed.record.identity?.agreed).toBe(true);
    // Only the steps still to do launched anything.
    expect(fakes.reduce((n, p) => n + p.launched.length, 0)).toBeLessThan(whole.record.timing!.launches);
    for (const p of fakes) expect(p.running.size).toBe(0);
  }, 60_000);

  it('resumes after a crash mid-write: the torn line is moved aside and the run completes', async () => {
    const r = root();
    await interruptedAt(r, 5, 'torn');
    appendFileSync(join(r, 'torn', 'samples.jsonl'), '{"metric":"startup","val');
    const stored = readRun(join(r, 'torn'), { every: true });
    expect(stored.readNotes.join()).toMatch(/last line was cut off/);
    await executeRun({ ...context(r), resume: stored });
    const done = readRun(join(r, 'torn'));
    expect(done.readNotes).toEqual([]);
    expect(done.record.status).toBe('completed');
    expect(readFileSync(join(r, 'torn', 'samples.jsonl.torn'), 'utf8')).toContain('"val');
  }, 60_000);

  it('retries failed steps on resume and keeps their failure in the history', async () => {
    const r = root();
    await executeRun(context(r, { b: { failLaunchAt: 3 } }), 'flaky');
    const first = readRun(join(r, 'flaky'), { every: true });
    expect(first.record.failures).toHaveLength(1);
    await executeRun({ ...context(r), resume: first });
    const done = readRun(join(r, 'flaky'));
    expect(done.record.failures).toHaveLength(1); // history: it failed in segment 0…
    expect(done.record.completed![String(done.record.failures![0]!.step)]).toBe(1); // …and was completed by segment 1
    expect(done.samples.filter((s) => s.metric === 'cold_start' && s.platform === 'b')).toHaveLength(2);
  }, 60_000);

  it('refuses a completed run, and a run whose plan would differ', async () => {
    const r = root();
    await executeRun(context(r), 'done');
    await expect(executeRun({ ...context(r), resume: readRun(join(r, 'done'), { every: true }) })).rejects.toThrow(/cannot resume .*: it completed/);

    await interruptedAt(r, 4, 'cut');
    const cut = readRun(join(r, 'cut'), { every: true });
    await expect(executeRun({ ...context(r, { yaml: yaml(3) }), resume: cut })).rejects.toThrow(/its plan \(\d+ steps\) differs/);
  }, 60_000);
});

describe('step failures', () => {
  it('an instance that dies before it is ready fails its step as instance_died, not as a timeout', async () => {
    const r = root();
    const ctx = context(r, { yaml: yaml(1, '1s'), a: { dieAtLaunch: 1 } });
    const outcome = await executeRun(ctx, 'died');
    const f = outcome.record.failures ?? [];
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ platform: 'a', measurement: 'startup', rep: 1, category: 'instance_died' });
    expect(f[0]!.message).toMatch(/not ready|no readiness/);
    expect(f[0]!.message).toMatch(/died on purpose/);
    // Its samples (none) are not counted; every other step's are.
    expect(outcome.record.summaries.find((x) => x.metric === 'startup' && x.platform === 'a')).toBeUndefined();
    expect(outcome.record.summaries.find((x) => x.metric === 'startup' && x.platform === 'b')?.summary?.n).toBe(1);
    for (const p of ctx.platforms) expect(p.running.size).toBe(0);
  }, 60_000);

  it('a wait on an instance that died ends at once, not at its timeout', async () => {
    const r = root();
    const ctx = context(r, { yaml: yaml(1, '60s'), b: { dieAtLaunch: 0 } });
    const t0 = performance.now();
    const outcome = await executeRun(ctx, 'watched');
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(outcome.record.failures?.map((f) => `${f.platform}:${f.measurement}:${f.category}`)).toEqual(['b:startup:instance_died']);
  }, 60_000);
});
