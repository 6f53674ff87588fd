/**
 * Sensitivity of the gate: the minimal detectable change (MDC) of a metric
 * for the baseline at hand, and how many runs or samples a target change
 * would take. Pure.
 *
 * Everything is on the log scale of the run-level test (run-level.ts). The
 * variance of one run's log median at n samples per run is split into
 *   v(n) = τ² + (π/2)·σ²/n,
 * τ² the run-to-run drift and (π/2)·σ²/n the sampling variance of a median
 * of n values with per-sample SD σ (the normal-theory efficiency of the
 * median). σ is estimated robustly within runs (1.4826 × MAD of the logs,
 * pooled over runs) and τ² = max(0, s² − (π/2)·σ²/n) from the measured SD s
 * of run medians. A design — K_b baseline runs, K_c current runs, n samples
 * per run — then has SE = √(v(n)·(1/K_b + 1/K_c)) and df = K_b + K_c − 2.
 *
 * The gate fails when the change d (log ratio, in the bad direction) is both
 * significant, |d| > t(1−α/2, df)·SE, and beyond the threshold, d > L(thr);
 * so it fails once d > c = max(t(1−α/2, df)·SE, L(thr)), and the change it
 * catches with probability `power` is
 *   MDC = c + t(power, df)·SE
 * (the usual central-t approximation to the noncentral t power). α here is
 * the per-test level: α/m under Holm with m gated metrics (a single changed
 * metric must pass Holm's first step). `mdcTest` is the same without the
 * threshold; `floor` the MDC with unlimited baseline runs — what the current
 * side's own noise leaves, which only more current runs (or a quieter host)
 * can lower.
 */
import { median } from 'simple-statistics';
import { tQuantile } from '../stats/student-t.js';
import type { Direction } from './thresholds.js';

export type SensitivityBasis = 'runs' | 'noise profile' | 'within-run only';

export interface NoiseComponents {
  /**
   * runs: run-to-run SD measured from this comparison's runs; noise profile: from a calibrate-noise profile;
   * within-run only: one baseline run and no profile, so the run-to-run drift is unknown (treated as 0: optimistic).
   */
  basis: SensitivityBasis;
  /** SD of a run's log median at `samplesPerRun` samples; null for within-run only. */
  runSd: number | null;
  /** Degrees of freedom of an external runSd (noise profile: K − 1), used while the design has one baseline run. */
  externalDf: number | null;
  /** Per-sample SD of the logs within a run (robust); null when runs hold a single value. */
  sampleSd: number | null;
  /** Samples per run now (median over the runs). */
  samplesPerRun: number;
}

export interface Design {
  baselineRuns: number;
  currentRuns: number;
  samplesPerRun: number;
}

export interface SensitivityGoal {
  /** Per-test two-sided level (already divided by m under Holm). */
  alpha: number;
  power: number;
  /** The metric's gate threshold (fraction). */
  threshold: number;
  direction: Direction;
  /** The change one wants to catch (fraction, e.g. 0.1). */
  target: number;
}

export interface Sensitivity {
  basis: SensitivityBasis;
  alpha: number;
  power: number;
  target: number;
  design: Design;
  /** Smallest change in the bad direction the gate catches with `power` (0.12 = 12 %). */
  mdc: number;
  /** The same for the significance test alone, ignoring the threshold. */
  mdcTest: number;
  /** The MDC with unlimited baseline runs (the current side's noise alone). */
  floor: number;
  /** mdc ≤ target. */
  reached: boolean;
  /** To reach the target, changing one thing at a time (null: not within the search limits, or not projectable). */
  needed: { baselineRuns: number | null; currentRuns: number | null; samplesPerRun: number | null };
  /** When no single change does it: the cheapest combination (recommendDesign); null when none within the limits does. */
  combined: Recommendation | null;
}

export const DEFAULT_POWER = 0.8;
export const DEFAULT_TARGET = 0.1;
/** Search limits for `needed` (beyond them the answer is "not practical"). */
export const MAX_RUNS = 50;
export const MAX_CURRENT_RUNS = 20;
export const MAX_SAMPLES = 1000;
/** A recommended design keeps the baseline at most this many runs (a baseline is remade after host changes). */
export const MAX_RECOMMENDED_BASELINE_RUNS = 20;

const MEDIAN_EFFICIENCY = Math.PI / 2;

/** Robust per-sample SD of the logs within runs (1.4826·MAD per run, pooled as a root mean square); null without a run of ≥ 2 positive values. */
export function withinRunLogSd(runs: readonly (readonly number[])[]): number | null {
  const sds: number[] = [];
  for (const values of runs) {
    if (values.length < 2 || values.some((v) => !(v > 0))) continue;
    const logs = values.map(Math.log);
    const m = median(logs);
    sds.push(1.4826 * median(logs.map((x) => Math.abs(x - m))));
  }
  if (sds.length === 0) return null;
  return Math.sqrt(sds.reduce((a, s) => a + s * s, 0) / sds.length);
}

/** Variance of one run's log median at n samples per run. */
function runVariance(c: NoiseComponents, n: number): number {
  const within = (s: number | null, k: number) => (s === null ? 0 : (MEDIAN_EFFICIENCY * s * s) / k);
  if (c.runSd === null) return within(c.sampleSd, n);
  if (c.sampleSd === null) return c.runSd ** 2;
  const between = Math.max(0, c.runSd ** 2 - within(c.sampleSd, c.samplesPerRun));
  return between + within(c.sampleSd, n);
}

function dfOf(c: NoiseComponents, d: Design): number {
  if (c.basis === 'within-run only') return Infinity;
  if (d.baselineRuns < 2 && c.externalDf !== null) return c.externalDf;
  return Math.max(1, d.baselineRuns + d.currentRuns - 2);
}

/** Log-scale bound a change must pass to exceed the threshold in the bad direction. */
function thresholdLog(threshold: number, direction: Direction): number {
  if (direction === 'lower') return Math.log1p(threshold);
  return threshold >= 1 ? Infinity : -Math.log(1 - threshold);
}

function relative(logChange: number, direction: Direction): number {
  return direction === 'lower' ? Math.expm1(logChange) : -Math.expm1(-logChange);
}

/** MDC (relative, bad direction) of a design; `withThreshold` false gives the test's alone. */
export function detectableChange(c: NoiseComponents, d: Design, g: SensitivityGoal, withThreshold = true): number {
  const se = Math.sqrt(runVariance(c, d.samplesPerRun) * (1 / d.baselineRuns + 1 / d.currentRuns));
  const df = dfOf(c, d);
  const crit = tQuantile(1 - g.alpha / 2, df) * se;
  const bound = withThreshold ? Math.max(crit, thresholdLog(g.threshold, g.direction)) : crit;
  return relative(bound + tQuantile(g.power, df) * se, g.direction);
}

/** Smallest k in [from, to] with ok(k), for ok monotone in k; null when even `to` fails. */
function smallest(from: number, to: number, ok: (k: number) => boolean): number | null {
  if (from > to || !ok(to)) return null;
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function sensitivityOf(c: NoiseComponents, d: Design, g: SensitivityGoal): Sensitivity {
  const mdc = detectableChange(c, d, g);
  const ok = (design: Design) => detectableChange(c, design, g) <= g.target;
  const reached = mdc <= g.target;
  const needed = reached
    ? { baselineRuns: d.baselineRuns, currentRuns: d.currentRuns, samplesPerRun: d.samplesPerRun }
    : {
    // Baseline runs cannot be projected without knowing the run-to-run drift.
    baselineRuns: c.basis === 'within-run only' ? null : smallest(Math.max(2, d.baselineRuns), MAX_RUNS, (k) => ok({ ...d, baselineRuns: k })),
    currentRuns: smallest(d.currentRuns, MAX_CURRENT_RUNS, (k) => ok({ ...d, currentRuns: k })),
    samplesPerRun: c.sampleSd === null ? null : smallest(Math.max(2, d.samplesPerRun), MAX_SAMPLES, (n) => ok({ ...d, samplesPerRun: n })),
  };
  return {
    basis: c.basis,
    alpha: g.alpha,
    power: g.power,
    target: g.target,
    design: d,
    mdc,
    mdcTest: detectableChange(c, d, g, false),
    floor: detectableChange(c, { ...d, baselineRuns: 1e6 }, g),
    reached,
    needed,
    combined: reached || needed.baselineRuns !== null || c.basis === 'within-run only' ? null : recommendDesign(c, g),
  };
}

export interface Recommendation {
  design: Design;
  mdc: number;
}

/**
 * The cheapest design that reaches the target: fewest samples per night
 * (current runs × samples per run), then fewest baseline runs; null when no
 * design within 5 runs a night, 4× the samples and 20 baseline runs does.
 */
export function recommendDesign(c: NoiseComponents, g: SensitivityGoal): Recommendation | null {
  const ns = c.sampleSd === null ? [c.samplesPerRun] : [1, 2, 3, 4].map((f) => f * c.samplesPerRun);
  let best: Recommendation | null = null;
  const cost = (d: Design) => d.currentRuns * d.samplesPerRun;
  for (let kc = 1; kc <= 5; kc++) {
    for (const n of ns) {
      const kb = smallest(2, MAX_RECOMMENDED_BASELINE_RUNS, (k) => detectableChange(c, { baselineRuns: k, currentRuns: kc, samplesPerRun: n }, g) <= g.target);
      if (kb === null) continue;
      const design = { baselineRuns: kb, currentRuns: kc, samplesPerRun: n };
      if (!best || cost(design) < cost(best.design) || (cost(design) === cost(best.design) && kb < best.design.baselineRuns)) {
        best = { design, mdc: detectableChange(c, design, g) };
      }
    }
  }
  return best;
}
