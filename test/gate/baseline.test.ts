import { describe, expect, it } from 'vitest';
import {
  baselinePath,
  baselineProblems,
  baselineSourceProblems,
  hostDifferences,
  hostFingerprint,
  hostKey,
  hostKeyOf,
  makeBaseline,
  upgradeBaseline,
  type BaselineFileV1,
} from '../../src/gate/baseline.js';
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
    const b = makeBaseline([run], null, new Date('2026-11-26T00:00:00Z'));
    expect(b.kind).toBe('vmbench-baseline');
    expect(b.schemaVersion).toBe(2);
    expect(b.scenario).toBe('smoke');
    expect(b.hostKey).toBe(hostKey(hostFingerprint(run.record.environment)));
    expect(b.runs).toHaveLength(1);
    const samples = b.runs[0]!.samples;
    expect(samples.every((s) => !s.warmup && Object.keys(s.metadata).length === 0)).toBe(true);
    expect(samples.length).toBe(run.samples.filter((s) => !s.warmup).length);
    expect(baselineProblems(JSON.parse(JSON.stringify(b)))).toEqual([]);
    expect(baselinePath('/x/baselines', b.hostKey, 'smoke')).toBe(`/x/baselines/${b.hostKey}/smoke.json`);
    expect(baselineProblems({ kind: 'other' })).toContain('kind is not "vmbench-baseline"');
  });

  it('several runs of one scenario on one host, oldest first; runs of other scenarios or hosts are refused', () => {
    const run = readRun(FIXTURE);
    const later = { record: { ...run.record, runId: 'later', startedAt: '2026-12-01T00:00:00.000Z' }, samples: run.samples };
    const earlier = { record: { ...run.record, runId: 'earlier', startedAt: '2026-11-01T00:00:00.000Z' }, samples: run.samples };
    const b = makeBaseline([later, earlier], null);
    expect(b.runs.map((r) => r.runId)).toEqual(['earlier', 'later']);
    expect(baselineSourceProblems([later, earlier])).toEqual([]);
    const other = { record: { ...run.record, runId: 'x', scenario: { name: 'other' } }, samples: run.samples };
    expect(baselineSourceProblems([later, other]).join()).toMatch(/different scenarios/);
    const otherHost = { record: { ...run.record, runId: 'y', environment: { ...run.record.environment, cores: 64 } }, samples: run.samples };
    expect(baselineSourceProblems([later, otherHost]).join()).toMatch(/different hosts/);
    expect(baselineSourceProblems([later, later]).join()).toMatch(/given twice/);
  });

  it('a schema-1 file (one run, samples flat) is read as a one-run baseline', () => {
    const run = readRun(FIXTURE);
    const v2 = makeBaseline([run], null);
    const { runs, schemaVersion: _v, ...rest } = v2;
    const v1: BaselineFileV1 = { ...rest, schemaVersion: 1, runId: runs[0]!.runId, runStartedAt: runs[0]!.startedAt, samples: runs[0]!.samples };
    expect(baselineProblems(JSON.parse(JSON.stringify(v1)))).toEqual([]);
    expect(upgradeBaseline(v1)).toEqual(v2);
    expect(baselineProblems({ ...v2, runs: [] })).toContain('no runs');
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
