import { metricLabel } from '../../src/results/sample.js';
import { describe, expect, it } from 'vitest';
import {
  decideDensityStep,
  densitySampleValues,
  leastSquaresSlope,
  marginalMemory,
  measureDensity,
  projectNextMemory,
  type DensityDeps,
  type DensityLimits,
  type DensityOptions,
  type DensityPoint,
} from '../../src/measure/density.js';
import { FakePlatform, type FakePlatformOptions } from '../../src/platforms/fake.js';
import type { Instance } from '../../src/platforms/platform.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { DensityConfig } from '../../src/scenario/schema.js';
import { builtinProtocol } from '../../src/workload/server-protocol.js';

const MiB = 2 ** 20;

// Short probe windows keep the file fast; no settle wait.
const fastOpts: DensityOptions = { settleMs: 0, probe: { mode: 'open', ratePerInstance: 20, durationMs: 300, warmupMs: 0, timeoutMs: 2000 } };

function setup(fake: FakePlatformOptions, extra: Partial<DensityDeps> = {}) {
  const platform = new FakePlatform('fk', fake);
  const steps: DensityPoint[] = [];
  const deps: DensityDeps = {
    launch: async (instanceId) =>
      platform.launch({ runId: 'density', instanceId, port: await freePort(), threads: 1, modelName: 'm' }),
    stop: (instance: Instance) => platform.stop(instance as Parameters<FakePlatform['stop']>[0]),
    readyTimeoutMs: 2000,
    pollIntervalMs: 5,
    request: builtinProtocol(Buffer.alloc(40), 'm').load,
    readyPath: '/v2/health/ready',
    onStep: (s) => steps.push(s),
    ...extra,
  };
  return { platform, deps, steps };
}

const config = (c: Partial<DensityConfig> = {}): DensityConfig => ({
  max_instances: 10,
  memory_budget: 10_000 * MiB,
  slo_p99: 1000,
  ...c,
});

describe('measureDensity', () => {
  it('stops before the next instance would exceed the memory budget', async () => {
    const { platform, deps, steps } = setup({ memoryPerInstanceBytes: 100 * MiB });
    const r = await measureDensity(deps, platform, config({ memory_budget: 350 * MiB }), fastOpts);
    expect(r.stoppedBecause).toBe('budget');
    expect(r.maxInstances).toBe(3);
    expect(r.memoryMethod).toBe('platform-reading');
    expect(r.curve.map((p) => p.hostMemoryBytes / MiB)).toEqual([100, 200, 300]);
    expect(r.marginalMemoryBytes).toBeCloseTo(100 * MiB);
    expect(steps).toHaveLength(3);
    for (const p of r.curve) {
      expect(p.p99Ms).toBeGreaterThan(0);
      expect(p.errors).toBe(0);
      expect(p.requests).toBeGreaterThanOrEqual(p.instances * 5);
      expect(p.launchToReadyMs).toBeGreaterThan(0);
    }
    expect(platform.launched).toEqual(['fk-density-1', 'fk-density-2', 'fk-density-3']);
    expect(platform.running.size).toBe(0);

    const samples = densitySampleValues(r);
    expect(samples.map((s) => `${metricLabel(s.metric, s.params)}:${s.unit}`)).toEqual([
      'density_max_instances:count', 'density_marginal_memory:MiB',
      'density_p99@n=1:ms', 'density_memory@n=1:MiB',
      'density_p99@n=2:ms', 'density_memory@n=2:MiB',
      'density_p99@n=3:ms', 'density_memory@n=3:MiB',
    ]);
    expect(samples[0]).toMatchObject({ value: 3, metadata: { stopped_because: 'budget', memory_method: 'platform-reading' } });
    expect(samples[1]!.value).toBeCloseTo(100);
    expect(samples[7]!.value).toBe(300);
  });

  it('stops when the measured memory itself exceeds the budget', async () => {
    const { platform, deps } = setup({ memoryPerInstanceBytes: 100 * MiB });
    const r = await measureDensity(deps, platform, config({ memory_budget: 50 * MiB }), fastOpts);
    expect(r).toMatchObject({ stoppedBecause: 'budget', maxInstances: 0, marginalMemoryBytes: null });
    expect(r.curve).toHaveLength(1);
    expect(platform.running.size).toBe(0);
  });

  it('falls back to the host MemAvailable delta without a platform memory reading', async () => {
    const { platform, deps } = setup({});
    let avail = 8000 * MiB;
    // Each reading after a launch sees 120 MiB less available.
    const readMemAvailable = async () => {
      const v = avail;
      avail -= 120 * MiB;
      return v;
    };
    const r = await measureDensity(deps, platform, config({ memory_budget: 300 * MiB }), { ...fastOpts, readMemAvailable });
    expect(r.memoryMethod).toBe('host-memavailable-delta');
    expect(r.curve.map((p) => p.hostMemoryBytes / MiB)).toEqual([120, 240]);
    expect(r).toMatchObject({ stoppedBecause: 'budget', maxInstances: 2 });
    expect(platform.running.size).toBe(0);
  });

  it('stops when p99 exceeds the SLO', async () => {
    // 40 ms per running instance: 40, 80, 120 ms; SLO 100 ms.
    const { platform, deps } = setup({ latencyPerRunningInstanceMs: 40 });
    const r = await measureDensity(deps, platform, config({ slo_p99: 100 }), fastOpts);
    expect(r.stoppedBecause).toBe('slo');
    expect(r.maxInstances).toBe(2);
    expect(r.curve).toHaveLength(3);
    expect(r.curve[2]!.p99Ms).toBeGreaterThan(100);
    expect(r.curve[1]!.p99Ms).toBeLessThanOrEqual(100);
    expect(r.detail).toMatch(/p99 .* > SLO 100 ms/);
    expect(platform.running.size).toBe(0);
  });

  it('closed-loop probe works too', async () => {
    const { platform, deps } = setup({ latencyPerRunningInstanceMs: 40 });
    const r = await measureDensity(deps, platform, config({ slo_p99: 100 }), {
      settleMs: 0,
      probe: { mode: 'closed', connectionsPerInstance: 1, durationMs: 300, warmupMs: 0 },
    });
    expect(r).toMatchObject({ stoppedBecause: 'slo', maxInstances: 2 });
    expect(platform.running.size).toBe(0);
  });

  it('stops at max_instances', async () => {
    const { platform, deps } = setup({ memoryPerInstanceBytes: MiB });
    const r = await measureDensity(deps, platform, config({ max_instances: 2 }), fastOpts);
    expect(r).toMatchObject({ stoppedBecause: 'max_instances', maxInstances: 2 });
    expect(r.curve).toHaveLength(2);
    expect(platform.launched).toHaveLength(2);
    expect(platform.running.size).toBe(0);
  });

  it('records a launch failure and stops', async () => {
    const { platform, deps } = setup({ failLaunchAt: 2 });
    const r = await measureDensity(deps, platform, config(), { ...fastOpts, readMemAvailable: async () => 1e9 });
    expect(r).toMatchObject({ stoppedBecause: 'launch_failed', maxInstances: 2 });
    expect(r.error).toMatch(/launch of instance 3 .*failed on purpose/);
    expect(r.curve).toHaveLength(2);
    expect(platform.running.size).toBe(0);
    expect(densitySampleValues(r)[0]!.metadata.error).toMatch(/failed on purpose/);
  });

  it('records a readiness failure and still stops the instance', async () => {
    const { platform, deps } = setup({ readyAfterMs: 60_000, memoryPerInstanceBytes: MiB }, { readyTimeoutMs: 150 });
    const r = await measureDensity(deps, platform, config(), fastOpts);
    expect(r).toMatchObject({ stoppedBecause: 'launch_failed', maxInstances: 0 });
    expect(r.error).toMatch(/not ready within 150 ms/);
    expect(platform.launched).toHaveLength(1);
    expect(platform.running.size).toBe(0);
  });

  it('aborts on the signal (mid-probe) and stops everything', async () => {
    const controller = new AbortController();
    const { platform, deps } = setup(
      { memoryPerInstanceBytes: MiB },
      {
        signal: controller.signal,
        // The second step's probe (300 ms) is under way 150 ms after the first point.
        onStep: (s) => void (s.instances === 1 && setTimeout(() => controller.abort(), 150)),
      },
    );
    const started = performance.now();
    const r = await measureDensity(deps, platform, config(), fastOpts);
    expect(r).toMatchObject({ stoppedBecause: 'aborted', maxInstances: 1 });
    expect(r.curve).toHaveLength(1);
    expect(platform.launched).toHaveLength(2);
    expect(platform.running.size).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an already aborted signal launches nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const { platform, deps } = setup({ memoryPerInstanceBytes: MiB }, { signal: controller.signal });
    const r = await measureDensity(deps, platform, config(), fastOpts);
    expect(r).toMatchObject({ stoppedBecause: 'aborted', maxInstances: 0, curve: [] });
    expect(platform.launched).toHaveLength(0);
  });

  it('a failing verify hook is rethrown after stopping every instance', async () => {
    const { platform, deps } = setup(
      { memoryPerInstanceBytes: MiB },
      { verify: async (i) => { if (i.id.endsWith('-2')) throw new Error('digest mismatch'); } },
    );
    await expect(measureDensity(deps, platform, config(), fastOpts)).rejects.toThrow(/digest mismatch/);
    expect(platform.launched).toHaveLength(2);
    expect(platform.running.size).toBe(0);
  });
});

describe('density pure parts', () => {
  it('least-squares slope', () => {
    expect(leastSquaresSlope([])).toBeNull();
    expect(leastSquaresSlope([{ x: 1, y: 5 }])).toBeNull();
    expect(leastSquaresSlope([{ x: 1, y: 5 }, { x: 1, y: 7 }])).toBeNull();
    expect(leastSquaresSlope([{ x: 1, y: 10 }, { x: 2, y: 20 }, { x: 3, y: 30 }])).toBeCloseTo(10);
    // noisy points: Sxy / Sxx = 8 / 5
    expect(leastSquaresSlope([{ x: 1, y: 4 }, { x: 2, y: 4 }, { x: 3, y: 8 }, { x: 4, y: 8 }])).toBeCloseTo(1.6);
    expect(marginalMemory([{ instances: 1, hostMemoryBytes: 150 }, { instances: 2, hostMemoryBytes: 250 }])).toBeCloseTo(100);
  });

  it('projects the next instance from the slope, or the mean with one point', () => {
    expect(projectNextMemory([])).toBeNull();
    expect(projectNextMemory([{ instances: 1, hostMemoryBytes: 120 }])).toBe(240);
    expect(projectNextMemory([{ instances: 1, hostMemoryBytes: 150 }, { instances: 2, hostMemoryBytes: 250 }])).toBeCloseTo(350);
    // A negative slope (noise) never projects below the last total.
    expect(projectNextMemory([{ instances: 1, hostMemoryBytes: 300 }, { instances: 2, hostMemoryBytes: 250 }])).toBe(250);
  });

  const limits: DensityLimits = { maxInstances: 5, memoryBudgetBytes: 1000, sloP99Ms: 50, maxErrorRate: 0.01 };
  const pt = (instances: number, hostMemoryBytes: number, p99Ms: number | null = 10, errors = 0, requests = 100): DensityPoint => ({
    instances, hostMemoryBytes, p99Ms, p50Ms: p99Ms, reqPerSec: 10, requests, errors, launchToReadyMs: 1, histogram: '',
  });

  it('decides whether a step met the limits and whether to go on', () => {
    expect(decideDensityStep([pt(1, 100)], limits)).toMatchObject({ met: true, stop: null });
    // measured over budget
    expect(decideDensityStep([pt(1, 100), pt(2, 1100)], limits)).toMatchObject({ met: false, stop: 'budget' });
    // projected over budget: 300, 600 → 900 fits; 300, 600, 900 → 1200 does not
    expect(decideDensityStep([pt(1, 300), pt(2, 600)], limits)).toMatchObject({ met: true, stop: null });
    expect(decideDensityStep([pt(1, 300), pt(2, 600), pt(3, 900)], limits)).toMatchObject({ met: true, stop: 'budget' });
    // latency
    expect(decideDensityStep([pt(1, 100, 51)], limits)).toMatchObject({ met: false, stop: 'slo' });
    expect(decideDensityStep([pt(1, 100, 50)], limits)).toMatchObject({ met: true, stop: null });
    expect(decideDensityStep([pt(1, 100, null, 5, 0)], limits)).toMatchObject({ met: false, stop: 'slo' });
    // failed probe requests count against the SLO
    expect(decideDensityStep([pt(1, 100, 10, 2, 98)], limits)).toMatchObject({ met: false, stop: 'slo' });
    expect(decideDensityStep([pt(1, 100, 10, 1, 99)], limits)).toMatchObject({ met: true, stop: null });
    // max instances; memory is judged before latency
    expect(decideDensityStep([pt(5, 100)], limits)).toMatchObject({ met: true, stop: 'max_instances' });
    expect(decideDensityStep([pt(5, 2000, 99)], limits)).toMatchObject({ met: false, stop: 'budget' });
    expect(decideDensityStep([], limits)).toMatchObject({ met: false, stop: null });
  });
});
