import { describe, expect, it } from 'vitest';
import { baselinePath, baselineProblems, hostDifferences, hostFingerprint, hostKey, hostKeyOf, makeBaseline } from '../../src/gate/baseline.js';
import { computeNoise } from '../../src/gate/noise.js';
import { readRun } from '../../src/results/read-run.js';
import { samplesOf } from './samples.js';

const FIXTURE = 'test/fixtures/runs/20261125-195847-smoke-ab6d';

describe('baselines', () => {
  it('host key: stable, from CPU, cores, memory, OS and kernel — not the hostname', () => {
    const env = { hostname: 'a', cpuModel: 'AMD EPYC', cores: 2, memoryBytes: 25276510208, os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0' };
    const key = hostKeyOf(env);
    expect(key).toMatch(/^[0-9a-f]{12}$/);
    expect(hostKeyOf({ ...env, hostname: 'b' } as typeof env)).toBe(key);
    expect(hostKeyOf({ ...env, cores: 4 })).not.toBe(key);
    expect(hostKeyOf({ ...env, memoryBytes: env.memoryBytes + 1000 })).toBe(key); // rounded to GiB
    expect(hostDifferences(hostFingerprint(env), hostFingerprint({ ...env, cores: 4 }))).toEqual(['cores: 2 → 4']);
  });

  it('made from a recorded run: warm-ups and metadata dropped, keyed by host and scenario', () => {
    const run = readRun(FIXTURE);
    const b = makeBaseline(run.record, run.samples, null, new Date('2026-11-26T00:00:00Z'));
    expect(b.kind).toBe('vmbench-baseline');
    expect(b.scenario).toBe('smoke');
    expect(b.hostKey).toBe(hostKey(hostFingerprint(run.record.environment)));
    expect(b.samples.every((s) => !s.warmup && Object.keys(s.metadata).length === 0)).toBe(true);
    expect(b.samples.length).toBe(run.samples.filter((s) => !s.warmup).length);
    expect(baselineProblems(JSON.parse(JSON.stringify(b)))).toEqual([]);
    expect(baselinePath('/x/baselines', b.hostKey, 'smoke')).toBe(`/x/baselines/${b.hostKey}/smoke.json`);
    expect(baselineProblems({ kind: 'other' })).toContain('kind is not "vmbench-baseline"');
  });
});

describe('computeNoise', () => {
  it('relative spread of the per-run medians, per metric × platform; metrics seen in one run only are left out', () => {
    const runs = [
      { runId: 'a', samples: [...samplesOf('cold_start', [100, 102, 98]), ...samplesOf('memory_host', [200], 'container', 'MiB'), ...samplesOf('image_size', [5], 'container', 'MiB')] },
      { runId: 'b', samples: [...samplesOf('cold_start', [110, 112, 108]), ...samplesOf('memory_host', [210], 'container', 'MiB')] },
      { runId: 'c', samples: [...samplesOf('cold_start', [105, 104, 106]), ...samplesOf('memory_host', [190], 'container', 'MiB')] },
    ];
    const noise = computeNoise(runs);
    expect(noise.map((n) => n.metric)).toEqual(['cold_start', 'memory_host']);
    expect(noise[0]!.medians).toEqual([100, 110, 105]);
    expect(noise[0]!.relativeSpread).toBeCloseTo(10 / 105, 10);
    expect(noise[1]!.relativeSpread).toBeCloseTo(20 / 200, 10);
  });
});
