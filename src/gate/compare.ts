/**
 * The regression gate's decision: two sample sets (baseline, current) → one
 * row per metric × platform with the change, its CI, a significance test and
 * a verdict. Pure: plain samples in, plain rows out; the bootstrap is seeded.
 *
 * Per metric × platform (warm-up samples left out):
 *  - ratio = median(current) ÷ median(baseline), with a 95 % percentile
 *    bootstrap CI (each side resampled independently; src/stats/bootstrap.ts);
 *  - a two-sided Mann–Whitney U test on the raw samples (src/stats/mann-whitney.ts);
 *    with several gated metrics the p-values are Holm-adjusted (the family is
 *    every gated, testable row of this comparison) so that the chance of a
 *    false failure of the *whole gate* stays ≤ α;
 *  - the threshold: CLI flag > scenario `gate:` block > default, raised to the
 *    measured noise floor when one is known (`bench calibrate-noise`).
 *
 * Verdicts:
 *  - regression: significant AND the median moved in the bad direction by more
 *    than the threshold → fails the gate (unless the metric is informational);
 *  - improvement: significant AND moved in the good direction by more than it;
 *  - change within threshold: significant but smaller than the threshold →
 *    reported, never fails;
 *  - no significant change;
 *  - not testable: fewer than 2 samples on a side (memory, throughput, image
 *    size … are one reading per run) and no noise floor: shown, never fails;
 *  - beyond noise / within noise: n = 1 but a noise floor exists: the change
 *    is compared with max(threshold, noise floor) alone — no significance is
 *    claimed; beyond it in the bad direction fails the gate;
 *  - missing: measured on one side only.
 */
import { bootstrapRatioCI } from '../stats/bootstrap.js';
import type { Interval } from '../stats/describe.js';
import { mannWhitneyU } from '../stats/mann-whitney.js';
import { median } from 'simple-statistics';
import type { Sample } from '../results/sample.js';
import { adjust, type Correction } from './multiple-testing.js';
import { groupSamples, noiseLookup, type NoiseEntry } from './noise.js';
import { metricDirection, resolveThreshold, type Direction, type ThresholdMap } from './thresholds.js';

export type Verdict =
  | 'regression'
  | 'improvement'
  | 'change within threshold'
  | 'no significant change'
  | 'not testable (n=1)'
  | 'beyond noise (n=1)'
  | 'within noise (n=1)'
  | 'missing';

export interface SideStats {
  n: number;
  median: number;
}

export interface ComparisonRow {
  metric: string;
  platform: string;
  unit: string;
  direction: Direction;
  baseline: SideStats | null;
  current: SideStats | null;
  /** median(current) ÷ median(baseline); null when a side is missing or the baseline median is 0. */
  ratio: number | null;
  /** 95 % bootstrap CI of the ratio; null when a side has n < 2. */
  ratioCI: Interval | null;
  /** Relative change in the bad direction (+0.2 = 20 % worse; negative = better). */
  worsening: number | null;
  /** Two-sided Mann–Whitney p-value; null when not testable. */
  p: number | null;
  /** p after the multiple-comparison correction (equal to p with correction "none" or for ungated rows). */
  pAdjusted: number | null;
  significant: boolean;
  /** Cliff's δ of current vs baseline (positive: current larger). */
  cliffsDelta: number | null;
  threshold: number;
  thresholdSource: string;
  /** Measured run-to-run spread, when a noise profile was given. */
  noiseFloor: number | null;
  /** max(threshold, noiseFloor). */
  effectiveThreshold: number;
  /** Whether this metric can fail the gate. */
  gated: boolean;
  verdict: Verdict;
  /** True when this row fails the gate. */
  fails: boolean;
  note: string;
}

export interface CompareOptions {
  /** Significance level per gate (default 0.05). */
  alpha?: number;
  correction?: Correction;
  /** Thresholds from the scenario's gate block (pattern → fraction). */
  scenarioThresholds?: ThresholdMap;
  /** Thresholds from CLI flags (beat the scenario's). */
  cliThresholds?: ThresholdMap;
  noise?: readonly NoiseEntry[];
  seed?: number;
  /** Bootstrap resamples (default 10 000). */
  iterations?: number;
}

export interface Comparison {
  alpha: number;
  correction: Correction;
  rows: ComparisonRow[];
  /** Rows that fail the gate. */
  regressions: ComparisonRow[];
}

export const DEFAULT_ALPHA = 0.05;

function worseningOf(ratio: number, direction: Direction): number {
  return direction === 'lower' ? ratio - 1 : 1 - ratio;
}

/** Compares `current` with `baseline`, both flat sample lists (warm-ups are ignored). */
export function compareSamples(baseline: readonly Sample[], current: readonly Sample[], opts: CompareOptions = {}): Comparison {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const correction = opts.correction ?? 'holm';
  const noiseOf = noiseLookup(opts.noise);
  const base = groupSamples(baseline);
  const cur = groupSamples(current);
  const keys = [...new Set([...base.keys(), ...cur.keys()])];

  const rows: ComparisonRow[] = keys.map((key) => {
    const b = base.get(key);
    const c = cur.get(key);
    const metric = (b ?? c)!.metric;
    const platform = (b ?? c)!.platform;
    const direction = metricDirection((b ?? c)!.base);
    const thr = resolveThreshold(metric, opts.scenarioThresholds, opts.cliThresholds);
    const noiseFloor = noiseOf(metric, platform);
    const effectiveThreshold = Math.max(thr.threshold, noiseFloor ?? 0);
    const row: ComparisonRow = {
      metric,
      platform,
      unit: (b ?? c)!.unit,
      direction,
      baseline: b ? { n: b.values.length, median: median(b.values) } : null,
      current: c ? { n: c.values.length, median: median(c.values) } : null,
      ratio: null,
      ratioCI: null,
      worsening: null,
      p: null,
      pAdjusted: null,
      significant: false,
      cliffsDelta: null,
      threshold: thr.threshold,
      thresholdSource: thr.source,
      noiseFloor,
      effectiveThreshold,
      gated: thr.gated,
      verdict: 'missing',
      fails: false,
      note: '',
    };
    if (!b || !c) {
      row.note = b ? 'measured in the baseline only' : 'measured in the current run only';
      return row;
    }
    if (row.baseline!.median !== 0) {
      row.ratio = row.current!.median / row.baseline!.median;
      row.worsening = worseningOf(row.ratio, direction);
    }
    if (b.values.length >= 2 && c.values.length >= 2) {
      const ci = bootstrapRatioCI(c.values, b.values, { seed: opts.seed ?? 1, iterations: opts.iterations, confidence: 0.95 });
      row.ratioCI = ci ? { low: ci.low, high: ci.high } : null;
      const mw = mannWhitneyU(c.values, b.values);
      if (mw) {
        row.p = mw.p;
        row.cliffsDelta = mw.cliffsDelta;
      }
    }
    return row;
  });

  // Multiple comparisons: the family is every gated row that has a test.
  const family = rows.filter((r) => r.p !== null && r.gated);
  const adjusted = adjust(
    family.map((r) => r.p!),
    correction,
  );
  family.forEach((r, i) => (r.pAdjusted = adjusted[i]!));
  for (const r of rows) if (r.p !== null && r.pAdjusted === null) r.pAdjusted = r.p;

  for (const r of rows) decide(r, alpha, correction);
  rows.sort((a, b) => a.metric.localeCompare(b.metric) || a.platform.localeCompare(b.platform));
  return { alpha, correction, rows, regressions: rows.filter((r) => r.fails) };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function decide(r: ComparisonRow, alpha: number, correction: Correction): void {
  if (r.baseline === null || r.current === null) return;
  if (r.ratio === null || r.worsening === null) {
    r.verdict = r.p === null ? 'not testable (n=1)' : 'no significant change';
    r.note = 'baseline median is 0: no relative change';
    return;
  }
  const thr = r.effectiveThreshold;
  const thrText = r.noiseFloor !== null && r.noiseFloor > r.threshold ? `${pct(thr)} (noise floor)` : pct(thr);
  if (r.p === null) {
    // One reading on a side: no test can say anything. Only a measured noise floor gives a yardstick.
    if (r.noiseFloor === null) {
      r.verdict = 'not testable (n=1)';
      r.note = `n = ${r.baseline.n} vs ${r.current.n}: no significance test possible; run calibrate-noise to gate it against the noise floor`;
      return;
    }
    if (r.worsening > thr) {
      r.verdict = 'beyond noise (n=1)';
      r.fails = r.gated;
      r.note = `${pct(r.worsening)} worse, beyond max(threshold, noise floor) = ${thrText}; no significance test (n=1)`;
    } else if (-r.worsening > thr) {
      r.verdict = 'beyond noise (n=1)';
      r.note = `${pct(-r.worsening)} better, beyond ${thrText}; no significance test (n=1)`;
    } else {
      r.verdict = 'within noise (n=1)';
      r.note = `change within max(threshold, noise floor) = ${thrText}; no significance test (n=1)`;
    }
    return;
  }
  r.significant = r.pAdjusted! < alpha;
  const pText = correction === 'holm' && r.gated ? `Holm-adjusted p = ${fmtP(r.pAdjusted!)}` : `p = ${fmtP(r.p)}`;
  if (!r.significant) {
    r.verdict = 'no significant change';
    r.note = `${pText} ≥ α = ${alpha}`;
    return;
  }
  if (r.worsening > thr) {
    r.verdict = 'regression';
    r.fails = r.gated;
    r.note = `${pct(r.worsening)} worse (> ${thrText}), ${pText}${r.gated ? '' : '; informational metric, not gated'}`;
  } else if (-r.worsening > thr) {
    r.verdict = 'improvement';
    r.note = `${pct(-r.worsening)} better (> ${thrText}), ${pText}`;
  } else {
    r.verdict = 'change within threshold';
    r.note = `significant (${pText}) but ${pct(Math.abs(r.worsening))} ${r.worsening > 0 ? 'worse' : 'better'} ≤ threshold ${thrText}: reported, not failed`;
  }
}

export function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
