/**
 * The run-level test: runs, not samples, are the unit of replication. Pure.
 *
 * On a shared host whole runs shift (A/A runs differ by more than their
 * within-run spread), so the samples of one run are not independent draws of
 * "the metric": they share the run's offset. The model is the one-way random
 * effects model on the log scale,
 *     log y[r][i] = μ + u[r] + e[r][i],   u ~ N(0, τ²) per run, e ~ N(0, σ²) per sample,
 * and each run is summarised by the log of its median, m[r] = μ + u[r] + (median of e).
 * The run medians of one configuration are then i.i.d. with variance
 * v = τ² + Var(median of n e's) — both the run-to-run drift *and* the sampling
 * noise of a run's median, without having to separate them.
 *
 * A change is tested with the pooled two-sample t-test on those per-run log
 * medians (baseline: K_b runs, current: K_c runs; df = K_b + K_c − 2):
 *     t = (mean(m_current) − mean(m_baseline)) / (s_pooled · √(1/K_b + 1/K_c)).
 * With one current run this is the t prediction test "is the new run's median
 * out of line with the baseline runs' medians?". On run *means* and with the
 * same n per run this is exactly the nested-ANOVA (mixed-model) test of the
 * baseline/current effect, whose error term is the spread between runs, so it
 * holds whatever τ²/σ² is; it is exact when the run summaries are normal.
 * Medians instead of means keep one slow cold start from moving a run's
 * summary; logs make the change relative (ratio of geometric means of run
 * medians) and the run-to-run spread roughly scale-free.
 *
 * With a single baseline run the spread of run medians cannot be estimated
 * from the comparison itself; an external estimate — the K per-run medians of
 * a `bench calibrate-noise` profile, df = K − 1 — can stand in for it.
 */
import { mean, sum } from 'simple-statistics';
import type { Interval } from '../stats/describe.js';
import { tQuantile, tTwoSidedP } from '../stats/student-t.js';

export interface RunLevelResult {
  baselineRuns: number;
  currentRuns: number;
  /** mean(log current run medians) − mean(log baseline run medians). */
  logChange: number;
  /** exp(logChange): ratio of the geometric means of the run medians. */
  ratio: number;
  /** Geometric mean of each side's run medians (what the ratio compares). */
  baselineCenter: number;
  currentCenter: number;
  /** SD of a run's log median: pooled from both sides, or the external one. */
  runSd: number;
  df: number;
  se: number;
  t: number;
  /** Two-sided p-value. */
  p: number;
  /** CI of the ratio at `confidence` (a prediction-type interval with one current run). */
  ratioCI: Interval;
  varianceSource: 'runs' | 'noise profile';
  /** Zero spread (a deterministic metric such as image_size): p is 1 for no change, 0 for any change. */
  degenerate: boolean;
}

export interface RunLevelOptions {
  /** Coverage of ratioCI; default 0.95. */
  confidence?: number;
  /** SD of log run medians and its degrees of freedom from elsewhere (a noise profile); used instead of the pooled one. */
  external?: { sd: number; df: number };
}

/** Sample SD of the logs of positive values; null when fewer than 2 or any value ≤ 0. */
export function logSd(values: readonly number[]): number | null {
  if (values.length < 2 || values.some((v) => !(v > 0) || !Number.isFinite(v))) return null;
  const logs = values.map(Math.log);
  const m = mean(logs);
  return Math.sqrt(sum(logs.map((x) => (x - m) ** 2)) / (logs.length - 1));
}

function sumSquares(xs: readonly number[]): number {
  const m = mean(xs);
  return sum(xs.map((x) => (x - m) ** 2));
}

/** Relative spreads below this are taken as none (floating-point noise of a deterministic metric). */
const ZERO_SPREAD = 1e-12;

/**
 * Tests current vs baseline run medians (raw values; each > 0). Null when a
 * side is empty, a median is not positive, or there is no variance estimate
 * (pooled df < 1 and no external one).
 */
export function runLevelTest(baselineMedians: readonly number[], currentMedians: readonly number[], opts: RunLevelOptions = {}): RunLevelResult | null {
  const kb = baselineMedians.length;
  const kc = currentMedians.length;
  if (kb === 0 || kc === 0) return null;
  if ([...baselineMedians, ...currentMedians].some((v) => !(v > 0) || !Number.isFinite(v))) return null;
  const lb = baselineMedians.map(Math.log);
  const lc = currentMedians.map(Math.log);
  let runSd: number;
  let df: number;
  if (opts.external) {
    runSd = opts.external.sd;
    df = opts.external.df;
  } else {
    df = kb + kc - 2;
    if (df < 1) return null;
    runSd = Math.sqrt((sumSquares(lb) + sumSquares(lc)) / df);
  }
  if (!(df >= 1) || !(runSd >= 0)) return null;
  const logChange = mean(lc) - mean(lb);
  const se = runSd * Math.sqrt(1 / kb + 1 / kc);
  const degenerate = runSd < ZERO_SPREAD;
  let t: number;
  let p: number;
  let half: number;
  if (degenerate) {
    t = Math.abs(logChange) < ZERO_SPREAD ? 0 : Math.sign(logChange) * Infinity;
    p = t === 0 ? 1 : 0;
    half = 0;
  } else {
    t = logChange / se;
    p = tTwoSidedP(t, df);
    half = tQuantile(1 - (1 - (opts.confidence ?? 0.95)) / 2, df) * se;
  }
  return {
    baselineRuns: kb,
    currentRuns: kc,
    logChange,
    ratio: Math.exp(logChange),
    baselineCenter: Math.exp(mean(lb)),
    currentCenter: Math.exp(mean(lc)),
    runSd,
    df,
    se,
    t,
    p,
    ratioCI: { low: Math.exp(logChange - half), high: Math.exp(logChange + half) },
    varianceSource: opts.external ? 'noise profile' : 'runs',
    degenerate,
  };
}
