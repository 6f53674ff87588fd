import { describe, expect, it } from 'vitest';
import {
  baselinePath,
  baselineProblems,
  baselineSourceProblems,
  hostDifferences,
  hostFingerprint,
  hostKey,
  hostKeyOf,
  hostLabelOf,
  makeBaseline,
  measuredHostNames,
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

  it('host key of a run driven from elsewhere: the remote host it measured, not the controller', () => {
    const controller = { hostname: 'laptop', cpuModel: 'Apple M9', cores: 8, memoryBytes: 16 * 2 ** 30, os: 'Debian 12', kernel: '6.1.0' };
    const box = { hostname: 'bench-01', cpuModel: 'AMD EPYC', cores: 64, memoryBytes: 256 * 2 ** 30, os: 'Ubuntu 24.04', kernel: '6.8.0' };
    const remote = { ...controller, hosts: { kvm: box }, platforms: { vm: { host: 'kvm' }, c: { host: 'kvm' } } };
    expect(measuredHostNames(remote)).toEqual(['kvm']);
    expect(hostKeyOf(remote)).toBe(hostKeyOf(box));
    expect(hostKeyOf(remote)).not.toBe(hostKeyOf(controller));
    // The same box driven from another controller keeps its key: a baseline stays with the measured machine.
    expect(hostKeyOf({ ...remote, cpuModel: 'Intel Xeon', cores: 2 })).toBe(hostKeyOf(box));
    expect(hostLabelOf(remote)).toBe('kvm (bench-01)');
    // Platforms on this machine (no host, or host local) keep the controller's key.
    expect(hostKeyOf({ ...controller, platforms: { c: { runtime: 'runc' } } })).toBe(hostKeyOf(controller));
    expect(hostLabelOf({ ...controller, platforms: { c: { host: 'local' } } })).toBe('local (laptop)');
    // Split over two machines: a key of its own, different from either.
    const split = { ...remote, platforms: { vm: { host: 'kvm' }, c: { host: 'local' } } };
    expect(measuredHostNames(split)).toEqual(['kvm', 'local']);
    expect([hostKeyOf(box), hostKeyOf(controller)]).not.toContain(hostKeyOf(split));
    expect(hostLabelOf(split)).toBe('kvm (bench-01) + local (laptop)');
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
