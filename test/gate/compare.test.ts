import { describe, expect, it } from 'vitest';
import { compareRuns, compareSamples } from '../../src/gate/compare.js';
import { holmAdjust } from '../../src/gate/multiple-testing.js';
import { normalSamples, samplesOf, simulatedRuns } from './samples.js';

// Fewer bootstrap resamples keep the many-seed tests fast; the CI does not enter the verdict.
const FAST = { iterations: 200 };

describe('compareSamples: synthetic sample sets', () => {
  it('identical distributions: false-positive rate over 200 seeds ≤ α (+ binomial tolerance)', () => {
    // 200 independent A/A comparisons, n = 10 per side, one metric. Mann–Whitney's exact test has size ≤ α, so the
    // expected rate is ≤ 0.05; the tolerance 0.08 is α + 2 binomial standard deviations (√(0.05·0.95/200) ≈ 0.015),
    // which a correct test exceeds with probability < 3 %.
    const alpha = 0.05;
    let significant = 0;
    let regressions = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const c = compareSamples(normalSamples('startup', 10, 300, 30, seed * 2), normalSamples('startup', 10, 300, 30, seed * 2 + 1), {
        alpha,
        ...FAST,
      });
      const row = c.rows[0]!;
      if (row.significant) significant++;
      if (c.regressions.length > 0) regressions++;
    }
    expect(significant / 200).toBeLessThanOrEqual(0.08);
    // A regression also needs a change beyond 10 %: rarer still.
    expect(regressions).toBeLessThanOrEqual(significant);
    expect(regressions / 200).toBeLessThanOrEqual(alpha);
  });

  it('identical distributions over many metrics: Holm keeps the gate-level false-failure rate ≤ α', () => {
    // 8 gated metrics per comparison, 200 comparisons: without a correction the chance that one of 8 fails is ~1 − 0.95⁸ ≈ 34 %.
    let failedGates = 0;
    const metrics = ['startup', 'cold_start', 'phase_ready', 'phase_model_loaded', 'phase_listening', 'phase_started', 'snapshot_restore', 'harness_exec_rtt'];
    for (let seed = 1; seed <= 200; seed++) {
      const base = metrics.flatMap((m, i) => normalSamples(m, 10, 100, 10, seed * 100 + i));
      const cur = metrics.flatMap((m, i) => normalSamples(m, 10, 100, 10, seed * 100 + 50 + i));
      // Threshold 0 %: only the significance decides, the harshest case for the correction.
      const c = compareSamples(base, cur, { cliThresholds: { '*': 0.000001 }, ...FAST });
      if (c.regressions.length > 0) failedGates++;
    }
    expect(failedGates / 200).toBeLessThanOrEqual(0.08);
  });

  it('a shift beyond the threshold is a regression (lower is better)', () => {
    const c = compareSamples(normalSamples('cold_start', 10, 300, 15, 1), normalSamples('cold_start', 10, 390, 15, 2), FAST);
    const row = c.rows[0]!;
    expect(row.verdict).toBe('regression');
    expect(row.fails).toBe(true);
    expect(row.ratio!).toBeGreaterThan(1.2);
    expect(row.ratioCI!.low).toBeGreaterThan(1.1);
    expect(row.p!).toBeLessThan(0.001);
    expect(c.regressions.map((r) => r.metric)).toEqual(['cold_start']);
  });

  it('a significant shift smaller than the threshold is reported, not failed', () => {
    const c = compareSamples(normalSamples('startup', 20, 300, 3, 3), normalSamples('startup', 20, 312, 3, 4), FAST);
    const row = c.rows[0]!;
    expect(row.significant).toBe(true);
    expect(row.worsening!).toBeGreaterThan(0.02);
    expect(row.worsening!).toBeLessThan(0.1);
    expect(row.verdict).toBe('change within threshold');
    expect(row.fails).toBe(false);
    expect(row.note).toMatch(/reported, not failed/);
    expect(c.regressions).toEqual([]);
  });

  it('the same shift fails when the scenario threshold is lower, and a CLI threshold beats the scenario', () => {
    const base = normalSamples('startup', 20, 300, 3, 3);
    const cur = normalSamples('startup', 20, 312, 3, 4);
    expect(compareSamples(base, cur, { scenarioThresholds: { startup: 0.02 }, ...FAST }).rows[0]!.verdict).toBe('regression');
    const c = compareSamples(base, cur, { scenarioThresholds: { startup: 0.02 }, cliThresholds: { startup: 0.1 }, ...FAST });
    expect(c.rows[0]!.verdict).toBe('change within threshold');
    expect(c.rows[0]!.thresholdSource).toContain('--threshold');
  });

  it('higher is better: a throughput drop is a regression, a rise an improvement', () => {
    const base = normalSamples('throughput@c=1', 10, 100, 2, 5, 'container', 'req/s');
    const drop = compareSamples(base, normalSamples('throughput@c=1', 10, 70, 2, 6, 'container', 'req/s'), FAST).rows[0]!;
    expect(drop.direction).toBe('higher');
    expect(drop.verdict).toBe('regression');
    expect(drop.worsening!).toBeCloseTo(0.3, 1);
    const rise = compareSamples(base, normalSamples('throughput@c=1', 10, 130, 2, 7, 'container', 'req/s'), FAST).rows[0]!;
    expect(rise.verdict).toBe('improvement');
    expect(rise.fails).toBe(false);
    // And for a lower-is-better metric, the same rise would be the regression.
    const slower = compareSamples(normalSamples('startup', 10, 100, 2, 5), normalSamples('startup', 10, 130, 2, 7), FAST).rows[0]!;
    expect(slower.verdict).toBe('regression');
    const faster = compareSamples(normalSamples('startup', 10, 100, 2, 5), normalSamples('startup', 10, 70, 2, 7), FAST).rows[0]!;
    expect(faster.verdict).toBe('improvement');
  });

  it('n = 1 per side without a noise floor: not testable, never fails, no significance claimed', () => {
    const c = compareSamples(samplesOf('memory_host', [250], 'container', 'MiB'), samplesOf('memory_host', [500], 'container', 'MiB'), FAST);
    const row = c.rows[0]!;
    expect(row.verdict).toBe('not testable (n=1)');
    expect(row.p).toBeNull();
    expect(row.significant).toBe(false);
    expect(row.fails).toBe(false);
    expect(row.ratio).toBe(2);
  });

  it('n = 1 with a noise floor: compared with max(threshold, noise floor) only', () => {
    const noise = [{ metric: 'memory_host', platform: 'container', unit: 'MiB', runs: 5, medians: [], relativeSpread: 0.15 }];
    const beyond = compareSamples(samplesOf('memory_host', [250], 'container', 'MiB'), samplesOf('memory_host', [300], 'container', 'MiB'), { noise, ...FAST });
    expect(beyond.rows[0]!.verdict).toBe('beyond noise (n=1)');
    expect(beyond.rows[0]!.fails).toBe(true);
    expect(beyond.rows[0]!.significant).toBe(false);
    expect(beyond.rows[0]!.effectiveThreshold).toBe(0.15);
    const within = compareSamples(samplesOf('memory_host', [250], 'container', 'MiB'), samplesOf('memory_host', [280], 'container', 'MiB'), { noise, ...FAST });
    expect(within.rows[0]!.verdict).toBe('within noise (n=1)');
    expect(within.rows[0]!.fails).toBe(false);
  });

  it('a noise floor above the threshold raises it for tested metrics too', () => {
    const noise = [{ metric: 'cold_start', platform: 'container', unit: 'ms', runs: 5, medians: [], relativeSpread: 0.4 }];
    const c = compareSamples(normalSamples('cold_start', 10, 300, 15, 1), normalSamples('cold_start', 10, 390, 15, 2), { noise, ...FAST });
    expect(c.rows[0]!.significant).toBe(true);
    expect(c.rows[0]!.verdict).toBe('change within threshold');
    expect(c.rows[0]!.fails).toBe(false);
  });

  it('informational metrics are reported but do not fail the gate', () => {
    const c = compareSamples(normalSamples('harness_exec_rtt', 10, 30, 1, 1), normalSamples('harness_exec_rtt', 10, 60, 1, 2), FAST);
    expect(c.rows[0]!.verdict).toBe('regression');
    expect(c.rows[0]!.gated).toBe(false);
    expect(c.rows[0]!.fails).toBe(false);
    expect(c.regressions).toEqual([]);
  });

  it('warm-ups are ignored; metrics on one side only are "missing"', () => {
    const base = [...normalSamples('startup', 5, 100, 1, 1), ...samplesOf('image_size', [200], 'container', 'MiB')];
    const cur = normalSamples('startup', 5, 100, 1, 2).map((s, i) => ({ ...s, warmup: i === 0, value: i === 0 ? 1e6 : s.value }));
    const c = compareSamples(base, cur, FAST);
    const startup = c.rows.find((r) => r.metric === 'startup')!;
    expect(startup.current!.n).toBe(4);
    expect(c.rows.find((r) => r.metric === 'image_size')!.verdict).toBe('missing');
  });
});

describe('compareRuns: baselines of several runs', () => {
  const run = (id: string, samples: ReturnType<typeof samplesOf>) => ({ runId: id, samples });

  it('metrics with one reading per run become testable across runs', () => {
    const base = [250, 255, 248, 252, 251].map((v, i) => run(`b${i}`, samplesOf('memory_host', [v], 'container', 'MiB')));
    const same = compareRuns(base, [run('c', samplesOf('memory_host', [253], 'container', 'MiB'))]).rows[0]!;
    expect(same.test).toBe('runs');
    expect(same.verdict).toBe('no significant change');
    expect(same.baseline).toMatchObject({ runs: 5, n: 5 });
    const grown = compareRuns(base, [run('c', samplesOf('memory_host', [320], 'container', 'MiB'))]).rows[0]!;
    expect(grown.verdict).toBe('regression');
    expect(grown.df).toBe(4);
    expect(grown.note).toMatch(/run-level t-test on run medians, 5 vs 1 run, df 4/);
  });

  it('a deterministic metric (no spread between runs) is not in the Holm family', () => {
    const runs = (seed: number, k: number, shift = 0) =>
      simulatedRuns(k, { n: 10, center: 300, runSd: 0.03, sampleSd: 0.05, seed, shift }).map((r) => ({
        ...r,
        samples: [...r.samples, ...samplesOf('image_size', [262], 'container', 'MiB')],
      }));
    const c = compareRuns(runs(1, 6), runs(2, 1, 0.5));
    const img = c.rows.find((r) => r.metric === 'image_size')!;
    expect(img).toMatchObject({ degenerate: true, p: 1, verdict: 'no significant change' });
    const cold = c.rows.find((r) => r.metric === 'cold_start')!;
    expect(cold.pAdjusted).toBe(cold.p); // a family of one
    expect(cold.verdict).toBe('regression');
  });

  it('several current runs are pooled per run, not per sample', () => {
    const base = simulatedRuns(5, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 3 });
    const cur = simulatedRuns(3, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 4 });
    const row = compareRuns(base, cur).rows[0]!;
    expect(row.current).toMatchObject({ runs: 3, n: 30 });
    expect(row.df).toBe(6);
  });

  it('one baseline run + a noise profile with run medians: run-level test with the profile\'s spread, threshold not raised', () => {
    const noise = [{ metric: 'cold_start', platform: 'container', unit: 'ms' as const, runs: 5, medians: [300, 310, 295, 330, 305], relativeSpread: 0.115 }];
    const c = compareSamples(normalSamples('cold_start', 10, 300, 5, 1), normalSamples('cold_start', 10, 330, 5, 2), { noise, cliThresholds: { cold_start: 0.05 } });
    const row = c.rows[0]!;
    expect(row.test).toBe('noise profile');
    expect(row.df).toBe(4);
    expect(row.effectiveThreshold).toBe(0.05);
    expect(row.verdict).toBe('no significant change'); // +10 % is within the run-to-run drift of this profile
    expect(row.sensitivity!.basis).toBe('noise profile');
    expect(c.warnings).toEqual([]);
    // The within-run test on the same samples would call it significant.
    expect(compareSamples(normalSamples('cold_start', 10, 300, 5, 1), normalSamples('cold_start', 10, 330, 5, 2), { iterations: 100 }).rows[0]!.significant).toBe(true);
  });
});

describe('holmAdjust', () => {
  it('matches the step-down definition (R p.adjust(method = "holm"))', () => {
    // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adj.map((x) => Number(x.toFixed(6)))).toEqual([0.03, 0.06, 0.06, 0.02]);
  });
});
