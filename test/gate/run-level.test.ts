import { describe, expect, it } from 'vitest';
import { compareRuns, compareSamples } from '../../src/gate/compare.js';
import { logSd, runLevelTest } from '../../src/gate/run-level.js';
import { detectableChange } from '../../src/gate/sensitivity.js';
import { simulatedRuns, type SimulatedRunsOptions } from './samples.js';

/**
 * The run-level test on simulated data WITH between-run variance: every run
 * gets its own offset (log SD 5 %, "whole runs shift"), on top of a 6 %
 * per-sample spread — so the run-to-run drift (5 %) is about twice the
 * sampling noise of a run's median of 10 (≈ 2.4 %), as measured on the shared
 * 2-core host (A/A runs of gate-smoke differed by 2–10 %).
 */
const HOST: Omit<SimulatedRunsOptions, 'seed'> = { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06 };
const ALPHA = 0.05;
/** Threshold 0: the significance test alone decides (the harshest case for the false-alarm rate). */
const NO_THRESHOLD = { cliThresholds: { '*': 1e-6 } };

/** α + 2 binomial standard errors for `trials` comparisons. */
const tolerance = (trials: number) => ALPHA + 2 * Math.sqrt((ALPHA * (1 - ALPHA)) / trials);

function aaRate(kb: number, kc: number, trials: number, seed0: number): { significant: number; oldTest: number } {
  let significant = 0;
  let oldTest = 0;
  for (let i = 0; i < trials; i++) {
    const base = simulatedRuns(kb, { ...HOST, seed: seed0 + 2 * i });
    const cur = simulatedRuns(kc, { ...HOST, seed: seed0 + 2 * i + 1 });
    const row = compareRuns(base, cur, NO_THRESHOLD).rows[0]!;
    expect(row.test).toBe('runs');
    if (row.significant) significant++;
    // The single-run test on the same data: the first baseline run against the first current run, samples as draws.
    if (compareSamples(base[0]!.samples, cur[0]!.samples, { ...NO_THRESHOLD, iterations: 50 }).rows[0]!.significant) oldTest++;
  }
  return { significant: significant / trials, oldTest: oldTest / trials };
}

function detectionRate(kb: number, kc: number, shift: number, trials: number, seed0: number, threshold = 0.05): number {
  let caught = 0;
  for (let i = 0; i < trials; i++) {
    const base = simulatedRuns(kb, { ...HOST, seed: seed0 + 2 * i });
    const cur = simulatedRuns(kc, { ...HOST, seed: seed0 + 2 * i + 1, shift });
    if (compareRuns(base, cur, { cliThresholds: { cold_start: threshold } }).regressions.length > 0) caught++;
  }
  return caught / trials;
}

describe('run-level test: false-alarm rate with a run-level random effect', () => {
  it('5 baseline runs vs 1: ≤ α + 2 SE over 300 A/A comparisons, where the within-run test cries wolf', () => {
    const r = aaRate(5, 1, 300, 1);
    expect(r.significant).toBeLessThanOrEqual(tolerance(300)); // 0.075
    // The old single-run test treats a run's samples as independent: on this model it is "significant" in ~half the A/A pairs.
    expect(r.oldTest).toBeGreaterThan(0.25);
  });

  it('other designs (3 vs 1, 10 vs 1, 5 vs 3 runs): ≤ α + 2 SE over 200 A/A comparisons each', () => {
    for (const [kb, kc, seed] of [
      [3, 1, 5000],
      [10, 1, 7000],
      [5, 3, 9000],
    ] as const) {
      expect(aaRate(kb, kc, 200, seed).significant, `${kb} vs ${kc}`).toBeLessThanOrEqual(tolerance(200)); // 0.081
    }
  });

  it('a gate failure also needs the bad direction and the threshold: rarer still', () => {
    let fails = 0;
    for (let i = 0; i < 300; i++) {
      const c = compareRuns(simulatedRuns(5, { ...HOST, seed: 20_000 + 2 * i }), simulatedRuns(1, { ...HOST, seed: 20_001 + 2 * i }), {
        cliThresholds: { cold_start: 0.05 },
      });
      if (c.regressions.length > 0) fails++;
    }
    expect(fails / 300).toBeLessThanOrEqual(ALPHA / 2 + 2 * Math.sqrt((0.025 * 0.975) / 300));
  });
});

describe('run-level test: power for a shift well above the between-run noise', () => {
  it('+25 % (5× the run-to-run SD), 10 baseline runs vs 1: caught in ≥ 90 % of 200 comparisons', () => {
    expect(detectionRate(10, 1, 0.25, 200, 30_000)).toBeGreaterThanOrEqual(0.9);
  });

  it('+20 %, 5 baseline runs vs 3 current runs: caught in ≥ 90 %', () => {
    expect(detectionRate(5, 3, 0.2, 200, 40_000)).toBeGreaterThanOrEqual(0.9);
  });

  it('the stated MDC is what the simulation catches at 80 % power (± 10 points)', () => {
    // The true variance of a run's log median: drift + sampling of a median of 10 (π/2·σ²/n).
    const runSd = Math.sqrt(HOST.runSd ** 2 + ((Math.PI / 2) * HOST.sampleSd ** 2) / HOST.n);
    const mdc = detectableChange(
      { basis: 'runs', runSd, externalDf: null, sampleSd: HOST.sampleSd, samplesPerRun: HOST.n },
      { baselineRuns: 10, currentRuns: 1, samplesPerRun: HOST.n },
      { alpha: ALPHA, power: 0.8, threshold: 0.05, direction: 'lower', target: 0.1 },
    );
    expect(mdc).toBeGreaterThan(0.15);
    expect(mdc).toBeLessThan(0.25);
    const rate = detectionRate(10, 1, mdc, 300, 50_000);
    expect(rate).toBeGreaterThanOrEqual(0.7);
    expect(rate).toBeLessThanOrEqual(0.92);
  });

  it('a shift the size of the drift is not claimed: +5 % with 5 vs 1 runs is caught rarely', () => {
    expect(detectionRate(5, 1, 0.05, 200, 60_000)).toBeLessThan(0.3);
  });
});

describe('runLevelTest', () => {
  it('pooled t on log run medians (checked by hand)', () => {
    // logs of baseline medians: ln 100, ln 110, ln 90; current: ln 130
    const r = runLevelTest([100, 110, 90], [130])!;
    const lb = [100, 110, 90].map(Math.log);
    const mb = (lb[0]! + lb[1]! + lb[2]!) / 3;
    const sd = Math.sqrt(lb.reduce((a, x) => a + (x - mb) ** 2, 0) / 2);
    expect(r.df).toBe(2);
    expect(r.runSd).toBeCloseTo(sd, 12);
    expect(r.logChange).toBeCloseTo(Math.log(130) - mb, 12);
    expect(r.t).toBeCloseTo((Math.log(130) - mb) / (sd * Math.sqrt(1 + 1 / 3)), 10);
    expect(r.p).toBeGreaterThan(0.02);
    expect(r.p).toBeLessThan(0.2);
    expect(r.ratioCI.low).toBeLessThan(r.ratio);
    expect(r.ratioCI.high).toBeGreaterThan(r.ratio);
    expect(r.baselineCenter).toBeCloseTo(Math.exp(mb), 10);
  });

  it('identical run medians: degenerate, p = 1; any change with zero spread: p = 0', () => {
    expect(runLevelTest([262, 262, 262], [262])).toMatchObject({ degenerate: true, p: 1 });
    expect(runLevelTest([262, 262], [263])).toMatchObject({ degenerate: true, p: 0 });
  });

  it('needs a variance estimate and positive medians; an external SD stands in for one baseline run', () => {
    expect(runLevelTest([100], [110])).toBeNull();
    expect(runLevelTest([100, 0], [110])).toBeNull();
    const r = runLevelTest([100], [110], { external: { sd: 0.05, df: 4 } })!;
    expect(r.varianceSource).toBe('noise profile');
    expect(r.df).toBe(4);
    expect(r.se).toBeCloseTo(0.05 * Math.SQRT2, 12);
    expect(logSd([100, 100])).toBe(0);
    expect(logSd([100])).toBeNull();
  });
});
