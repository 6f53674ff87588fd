import { describe, expect, it } from 'vitest';
import { renderMarkdownSummary } from '../../src/report/markdown-summary.js';
import type { Sample } from '../../src/results/sample.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { aggregateSamples } from '../../src/results/summarize.js';
import { auditFairness } from '../../src/results/fairness.js';

const sample = (platform: string, kind: Sample['kind'], value: number): Sample => ({
  metric: 'startup', value, unit: 'ms', platform, kind, rep: 0, warmup: false, timestamp: 0, metadata: {},
});

function record(): RunRecord {
  const { summaries, ratios } = aggregateSamples(
    [...[400, 410, 420].map((v) => sample('container', 'docker', v)), ...[26000, 27000, 25000].map((v) => sample('vm', 'qemu', v))],
    1,
  );
  return {
    schemaVersion: 2,
    runId: 'r1',
    status: 'completed',
    scenarioFile: 'scenarios/smoke.yaml',
    scenario: {},
    startedAt: '2026-11-25T18:00:00.000Z',
    finishedAt: '2026-11-25T18:02:00.000Z',
    environment: {
      hostname: 'h', kernel: '6.1', os: 'Debian 12', cpuModel: 'cpu', cores: 2, memoryBytes: 24 * 2 ** 30, node: 'v20', vmbenchVersion: '0.1.0',
      git: { commit: 'abcdef1234567890', dirty: false }, bootId: null, rootfsDigest: 'd'.repeat(64), artifactId: 'a',
      platforms: { vm: { kind: 'qemu', accel: 'tcg', qemuVersion: '7.2' } },
    },
    artifact: null,
    plan: { order: 'interleaved', seed: 1, pollIntervalMs: 10, steps: 6 },
    identity: null,
    calibration: { pollIntervalMs: 10, pollRoundTripMs: { median: 0.4, p99: 1.2, n: 50 }, timerLatenessMs: { median: 1.1, p99: 2, n: 50 }, resolutionMs: 11.5 },
    summaries,
    ratios,
    warnings: ['vm: QEMU ran under TCG software emulation'],
    error: null,
  };
}

describe('renderMarkdownSummary', () => {
  it('carries n, the CI, the ratio with its test, warnings and the environment', () => {
    const md = renderMarkdownSummary(record());
    expect(md).toContain('# vmbench run r1');
    expect(md).toContain('⚠ vm: QEMU ran under TCG');
    expect(md).toMatch(/\| startup \| container \| docker \| 3 \| 410 ms \| .+ ms – .+ ms \|/);
    expect(md).toMatch(/\| startup \| vm ÷ container \| 63\.41× \|/);
    expect(md).toContain('Mann–Whitney U (exact)');
    expect(md).toContain('accel=tcg');
    expect(md).toContain('**startup**: launch call → first HTTP 200');
    expect(md).toContain('Timing resolution ≈ 11.5 ms');
  });

  it('opens its warnings with the recorded fairness audit when the platforms got unequal resources', () => {
    const fairness = auditFairness({ platforms: [{ name: 'container', kind: 'docker', cpus: 2, memoryBytes: 2 ** 30 }, { name: 'vm', kind: 'qemu', cpus: 1, memoryBytes: 2 ** 30 }], threads: 1 });
    const md = renderMarkdownSummary({ ...record(), fairness });
    expect(md).toMatch(/## Warnings\n\n- ⚠ unequal resources — cpus: container 2 CPUs, vm 1 CPU: the comparison is not like for like\n- ⚠ vm: QEMU ran under TCG/);
  });
});
