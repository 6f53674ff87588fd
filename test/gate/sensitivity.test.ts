import { describe, expect, it } from 'vitest';
import { compareRuns, compareSamples } from '../../src/gate/compare.js';
import { computeNoise, noiseSensitivity } from '../../src/gate/noise.js';
import { detectableChange, recommendDesign, sensitivityOf, withinRunLogSd, type NoiseComponents, type SensitivityGoal } from '../../src/gate/sensitivity.js';
import { tQuantile } from '../../src/stats/student-t.js';
import { samplesOf, simulatedRuns } from './samples.js';

const goal: SensitivityGoal = { alpha: 0.05, power: 0.8, threshold: 0.05, direction: 'lower', target: 0.1 };
/** Run-to-run SD 5 % measured from runs of one reading each (no within-run split). */
const runsOnly: NoiseComponents = { basis: 'runs', runSd: 0.05, externalDf: null, sampleSd: null, samplesPerRun: 1 };

describe('minimal detectable change', () => {
  it('is max(critical value, threshold) + t(power)·SE on the log scale', () => {
    const d = { baselineRuns: 5, currentRuns: 1, samplesPerRun: 1 };
    const se = 0.05 * Math.sqrt(1 / 5 + 1);
    const expected = Math.expm1(Math.max(tQuantile(0.975, 4) * se, Math.log1p(0.05)) + tQuantile(0.8, 4) * se);
    expect(detectableChange(runsOnly, d, goal)).toBeCloseTo(expected, 12);
    // Without the threshold, the test's own; with a huge threshold, the threshold dominates.
    expect(detectableChange(runsOnly, d, goal, false)).toBeCloseTo(Math.expm1((tQuantile(0.975, 4) + tQuantile(0.8, 4)) * se), 12);
    expect(detectableChange(runsOnly, d, { ...goal, threshold: 0.75 })).toBeGreaterThan(0.75);
  });

  it('higher-is-better metrics: the MDC is a relative drop', () => {
    const d = { baselineRuns: 10, currentRuns: 1, samplesPerRun: 1 };
    const lower = detectableChange(runsOnly, d, goal, false);
    const higher = detectableChange(runsOnly, d, { ...goal, direction: 'higher' }, false);
    expect(higher).toBeLessThan(lower); // 1 − e^−x < e^x − 1
    expect(higher).toBeCloseTo(-Math.expm1(-Math.log1p(lower)), 12);
  });

  it('falls with more baseline runs towards a floor set by the current side; more current runs go below it', () => {
    const at = (kb: number, kc = 1) => detectableChange(runsOnly, { baselineRuns: kb, currentRuns: kc, samplesPerRun: 1 }, goal);
    expect(at(3)).toBeGreaterThan(at(5));
    expect(at(5)).toBeGreaterThan(at(20));
    const s = sensitivityOf(runsOnly, { baselineRuns: 5, currentRuns: 1, samplesPerRun: 1 }, goal);
    expect(s.floor).toBeLessThan(at(50));
    expect(s.floor).toBeGreaterThan(0.1); // 5 % run-to-run drift, one current run: (1.96 + 0.84)·5 % ≈ 15 % > 10 %
    expect(s.reached).toBe(false);
    expect(s.needed.baselineRuns).toBeNull(); // no number of baseline runs beats the floor
    expect(s.needed.currentRuns).not.toBeNull();
    expect(at(5, s.needed.currentRuns!)).toBeLessThanOrEqual(0.1);
    expect(at(5, s.needed.currentRuns! - 1)).toBeGreaterThan(0.1);
    expect(s.needed.samplesPerRun).toBeNull(); // one reading per run: no within-run lever
  });

  it('splits drift from sampling noise: more samples per run help only the sampling part', () => {
    // Per-sample SD 10 %, n = 5: the run median's sampling SD ≈ 5.6 %; total 6 % → drift ≈ 2.2 %.
    const c: NoiseComponents = { basis: 'runs', runSd: 0.06, externalDf: null, sampleSd: 0.1, samplesPerRun: 5 };
    const s = sensitivityOf(c, { baselineRuns: 8, currentRuns: 1, samplesPerRun: 5 }, goal);
    expect(s.reached).toBe(false);
    expect(s.needed.samplesPerRun).not.toBeNull();
    expect(detectableChange(c, { baselineRuns: 8, currentRuns: 1, samplesPerRun: s.needed.samplesPerRun! }, goal)).toBeLessThanOrEqual(0.1);
    const pureDrift: NoiseComponents = { ...c, sampleSd: 0.001 };
    expect(sensitivityOf(pureDrift, { baselineRuns: 8, currentRuns: 1, samplesPerRun: 5 }, goal).needed.samplesPerRun).toBeNull();
  });

  it('a target at or below the threshold is never reached', () => {
    const s = sensitivityOf({ ...runsOnly, runSd: 0.001 }, { baselineRuns: 10, currentRuns: 1, samplesPerRun: 1 }, { ...goal, threshold: 0.1 });
    expect(s.mdc).toBeGreaterThan(0.1);
    expect(s.reached).toBe(false);
  });

  it('recommends the design with the fewest samples per night that reaches the target', () => {
    const r = recommendDesign(runsOnly, goal)!;
    expect(r.mdc).toBeLessThanOrEqual(0.1);
    expect(r.design.currentRuns).toBeGreaterThan(1); // one current run cannot reach 10 % with 5 % drift
    const fewer = { ...r.design, currentRuns: r.design.currentRuns - 1 };
    expect(detectableChange(runsOnly, { ...fewer, baselineRuns: 50 }, goal)).toBeGreaterThan(0.1);
    expect(recommendDesign({ ...runsOnly, runSd: 0.5 }, goal)).toBeNull();
  });

  it('within-run SD: 1.4826·MAD of the logs, pooled over runs', () => {
    expect(withinRunLogSd([[100]])).toBeNull();
    const sd = withinRunLogSd([
      [90, 100, 110],
      [95, 100, 105],
    ])!;
    const mad = (a: number, b: number) => Math.min(Math.abs(Math.log(a) - Math.log(100)), Math.abs(Math.log(b) - Math.log(100)));
    expect(sd).toBeCloseTo(1.4826 * Math.sqrt((mad(90, 110) ** 2 + mad(95, 105) ** 2) / 2), 3);
  });
});

describe('sensitivity in comparisons', () => {
  it('every tested row states its MDC; one baseline run without a profile says "within-run only"', () => {
    const one = compareSamples(simulatedRuns(1, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 1 })[0]!.samples, simulatedRuns(1, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 2 })[0]!.samples, { iterations: 100 });
    expect(one.rows[0]!.sensitivity!.basis).toBe('within-run only');
    expect(one.warnings.join()).toMatch(/single run/);
    const many = compareRuns(simulatedRuns(6, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 3 }), simulatedRuns(1, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 4 }));
    const s = many.rows[0]!.sensitivity!;
    expect(s.basis).toBe('runs');
    expect(s.design).toEqual({ baselineRuns: 6, currentRuns: 1, samplesPerRun: 10 });
    expect(s.mdc).toBeGreaterThan(many.rows[0]!.effectiveThreshold);
    expect(many.warnings).toEqual([]);
  });

  it('Holm: the MDC is stated at α/m for m gated metrics', () => {
    const runs = (seed: number, k: number) =>
      simulatedRuns(k, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed }).map((r, i) => ({
        ...r,
        samples: [...r.samples, ...simulatedRuns(1, { n: 10, center: 200, runSd: 0.05, sampleSd: 0.06, seed: seed * 31 + i, metric: 'startup' })[0]!.samples],
      }));
    const c = compareRuns(runs(5, 5), runs(6, 1));
    expect(c.rows.map((r) => r.sensitivity!.alpha)).toEqual([0.025, 0.025]);
    expect(compareRuns(runs(5, 5), runs(6, 1), { correction: 'none' }).rows[0]!.sensitivity!.alpha).toBe(0.05);
  });

  it('calibrate-noise: run-to-run and within-run SD per metric, and a recommended design', () => {
    const runs = simulatedRuns(8, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 11 });
    const [entry] = computeNoise(runs.map((r) => ({ ...r, samples: [...r.samples, ...samplesOf('image_size', [262], 'container', 'MiB')] })));
    expect(entry!.metric).toBe('cold_start');
    expect(entry!.runSd!).toBeGreaterThan(0.02);
    expect(entry!.runSd!).toBeLessThan(0.1);
    expect(entry!.sampleSd!).toBeGreaterThan(0.03);
    expect(entry!.samplesPerRun).toBe(10);
    const sens = noiseSensitivity(entry!, goal)!;
    expect(sens.sensitivity.design.baselineRuns).toBe(8);
    expect(sens.recommendation!.mdc).toBeLessThanOrEqual(0.1);
  });
});
