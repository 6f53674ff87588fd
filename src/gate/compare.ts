/**
 * The regression gate's decision: baseline runs vs current runs → one row per
 * metric × platform with the change, its CI, a significance test, the
 * minimal detectable change and a verdict. Pure: plain samples in, plain rows
 * out; the bootstrap is seeded.
 *
 * Runs are the unit of replication (run-level.ts): on a host where whole runs
 * shift, the samples of one run are not independent draws. Per metric ×
 * platform (warm-up samples left out), the test is chosen by what the
 * baseline can tell:
 *  - "runs": the baseline holds ≥ 2 runs of the metric → pooled t-test on the
 *    log run medians (baseline runs vs current runs). Works for metrics with one
 *    reading per run (memory, throughput, image size …) too;
 *  - "noise profile": one baseline run, but a `bench calibrate-noise` profile
 *    holds ≥ 2 per-run medians of the metric → the same test with the profile's
 *    run-to-run SD (df = K − 1);
 *  - "samples": one baseline run and no such profile → the run-to-run drift
 *    cannot be separated from a change. The old within-run test is kept as the
 *    fallback: two-sided Mann–Whitney U on the pooled samples with a bootstrap CI
 *    of the ratio of medians, a threshold raised to the noise floor where one is
 *    known; the comparison warns that this p-value is optimistic.
 * p-values of all gated, non-degenerate rows are Holm-adjusted (gate-level
 * false-failure rate ≤ α); thresholds come from CLI flags > the scenario's gate
 * block > the defaults (thresholds.ts); the verdict rules are in verdict.ts;
 * the minimal detectable change at α and power in sensitivity.ts.
 */
import { median } from 'simple-statistics';
import { bootstrapRatioCI } from '../stats/bootstrap.js';
import type { Interval } from '../stats/describe.js';
import { mannWhitneyU } from '../stats/mann-whitney.js';
import type { Sample } from '../results/sample.js';
import { adjust, type Correction } from './multiple-testing.js';
import { groupSamples, noiseEntryLookup, type NoiseEntry, type RunSamples } from './noise.js';
import { logSd, runLevelTest } from './run-level.js';
import { DEFAULT_POWER, DEFAULT_TARGET, sensitivityOf, withinRunLogSd, type NoiseComponents, type Sensitivity } from './sensitivity.js';
import { metricDirection, resolveThreshold, type Direction, type ThresholdMap } from './thresholds.js';
import { decide, worseningOf, type GateTest, type Verdict } from './verdict.js';

export type { GateTest, Verdict } from './verdict.js';
export { fmtP } from './verdict.js';

export interface SideStats {
  /** Samples over all runs. */
  n: number;
  /** Median of all samples pooled. */
  median: number;
  /** Runs that measured the metric. */
  runs: number;
  /** What the test compares: the geometric mean of the run medians (run-level tests), else the pooled median. */
  center: number;
}

export interface ComparisonRow {
  metric: string;
  platform: string;
  unit: string;
  direction: Direction;
  baseline: SideStats | null;
  current: SideStats | null;
  test: GateTest;
  /** center(current) ÷ center(baseline); null when a side is missing or the baseline is 0. */
  ratio: number | null;
  /** 95 % CI of the ratio (t-based for run-level tests, bootstrap for samples); null when untestable. */
  ratioCI: Interval | null;
  /** Relative change in the bad direction (+0.2 = 20 % worse; negative = better). */
  worsening: number | null;
  /** Two-sided p-value; null when not testable. */
  p: number | null;
  /** p after the multiple-comparison correction (equal to p with correction "none" or for ungated rows). */
  pAdjusted: number | null;
  /** Degrees of freedom of a run-level test. */
  df: number | null;
  /** Zero run-to-run spread (a deterministic metric): p is 0 or 1 and the row stays out of the Holm family. */
  degenerate: boolean;
  significant: boolean;
  /** Cliff's δ of current vs baseline samples (samples test only; positive: current larger). */
  cliffsDelta: number | null;
  threshold: number;
  thresholdSource: string;
  /** Measured run-to-run spread, (max − min)/median of a noise profile's run medians. */
  noiseFloor: number | null;
  /** The threshold applied: max(threshold, noiseFloor) for the samples test, the threshold itself for run-level tests. */
  effectiveThreshold: number;
  /** Whether this metric can fail the gate. */
  gated: boolean;
  /** Minimal detectable change at α and power, and what a target change would need; null when not estimable. */
  sensitivity: Sensitivity | null;
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
  /** Bootstrap resamples of the samples test (default 10 000). */
  iterations?: number;
  /** Power at which the minimal detectable change is stated (default 0.8). */
  power?: number;
  /** Change whose cost in runs / samples is stated (default 0.1). */
  target?: number;
  /** State the minimal detectable change per row (default true; off saves time in replays of many comparisons). */
  sensitivity?: boolean;
}

export interface Comparison {
  alpha: number;
  correction: Correction;
  power: number;
  target: number;
  baselineRuns: number;
  currentRuns: number;
  rows: ComparisonRow[];
  /** Rows that fail the gate. */
  regressions: ComparisonRow[];
  /** What limits the comparison as a whole (e.g. a single baseline run). */
  warnings: string[];
}

export const DEFAULT_ALPHA = 0.05;

interface SideSeries {
  metric: string;
  base: string;
  platform: string;
  unit: string;
  /** Values per run, runs without the metric left out. */
  runs: number[][];
}

function gather(runs: readonly RunSamples[]): Map<string, SideSeries> {
  const out = new Map<string, SideSeries>();
  for (const run of runs) {
    for (const [key, g] of groupSamples(run.samples)) {
      if (g.values.length === 0) continue;
      let s = out.get(key);
      if (!s) out.set(key, (s = { metric: g.metric, base: g.base, platform: g.platform, unit: g.unit, runs: [] }));
      s.runs.push(g.values);
    }
  }
  return out;
}

function sideStats(s: SideSeries, center?: number): SideStats {
  const all = s.runs.flat();
  const med = median(all);
  return { n: all.length, median: med, runs: s.runs.length, center: center ?? med };
}

/** Compares single runs: `current` with `baseline`, both flat sample lists (warm-ups are ignored). */
export function compareSamples(baseline: readonly Sample[], current: readonly Sample[], opts: CompareOptions = {}): Comparison {
  return compareRuns([{ runId: 'baseline', samples: baseline }], [{ runId: 'current', samples: current }], opts);
}

/** Compares the current run(s) with the baseline run(s). */
export function compareRuns(baseline: readonly RunSamples[], current: readonly RunSamples[], opts: CompareOptions = {}): Comparison {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const correction = opts.correction ?? 'holm';
  const power = opts.power ?? DEFAULT_POWER;
  const target = opts.target ?? DEFAULT_TARGET;
  const noiseOf = noiseEntryLookup(opts.noise);
  const base = gather(baseline);
  const cur = gather(current);
  const keys = [...new Set([...base.keys(), ...cur.keys()])];
  const components = new Map<ComparisonRow, NoiseComponents>();

  const rows: ComparisonRow[] = keys.map((key) => {
    const b = base.get(key);
    const c = cur.get(key);
    const first = (b ?? c)!;
    const direction = metricDirection(first.base);
    const thr = resolveThreshold(first.metric, opts.scenarioThresholds, opts.cliThresholds);
    const noise = noiseOf(first.metric, first.platform);
    const row: ComparisonRow = {
      metric: first.metric,
      platform: first.platform,
      unit: first.unit,
      direction,
      baseline: b ? sideStats(b) : null,
      current: c ? sideStats(c) : null,
      test: 'samples',
      ratio: null,
      ratioCI: null,
      worsening: null,
      p: null,
      pAdjusted: null,
      df: null,
      degenerate: false,
      significant: false,
      cliffsDelta: null,
      threshold: thr.threshold,
      thresholdSource: thr.source,
      noiseFloor: noise?.relativeSpread ?? null,
      effectiveThreshold: thr.threshold,
      gated: thr.gated,
      sensitivity: null,
      verdict: 'missing',
      fails: false,
      note: '',
    };
    if (!b || !c) {
      row.note = b ? 'measured in the baseline only' : 'measured in the current run only';
      return row;
    }
    const medians = (s: SideSeries) => s.runs.map((values) => median(values));
    const noiseSd = noise ? logSd(noise.medians) : null;
    const runLevel =
      b.runs.length >= 2
        ? runLevelTest(medians(b), medians(c))
        : noise && noiseSd !== null
          ? runLevelTest(medians(b), medians(c), { external: { sd: noiseSd, df: noise.medians.length - 1 } })
          : null;
    const sampleSd = withinRunLogSd([...b.runs, ...c.runs]);
    const samplesPerRun = Math.round(median([...b.runs, ...c.runs].map((r) => r.length)));
    if (runLevel) {
      row.test = runLevel.varianceSource;
      row.baseline = sideStats(b, runLevel.baselineCenter);
      row.current = sideStats(c, runLevel.currentCenter);
      row.ratio = runLevel.ratio;
      row.ratioCI = runLevel.degenerate ? null : runLevel.ratioCI;
      row.p = runLevel.p;
      row.df = runLevel.df;
      row.degenerate = runLevel.degenerate;
      components.set(row, {
        basis: runLevel.varianceSource,
        runSd: runLevel.runSd,
        externalDf: runLevel.varianceSource === 'noise profile' ? runLevel.df : null,
        sampleSd,
        samplesPerRun,
      });
    } else {
      // One baseline run and no usable noise profile: the within-run test, thresholds raised to the noise floor.
      row.effectiveThreshold = Math.max(thr.threshold, row.noiseFloor ?? 0);
      if (row.baseline!.median !== 0) row.ratio = row.current!.median / row.baseline!.median;
      const bv = b.runs.flat();
      const cv = c.runs.flat();
      if (bv.length >= 2 && cv.length >= 2) {
        const ci = bootstrapRatioCI(cv, bv, { seed: opts.seed ?? 1, iterations: opts.iterations, confidence: 0.95 });
        row.ratioCI = ci ? { low: ci.low, high: ci.high } : null;
        const mw = mannWhitneyU(cv, bv);
        if (mw) {
          row.p = mw.p;
          row.cliffsDelta = mw.cliffsDelta;
        }
        if (sampleSd !== null) components.set(row, { basis: 'within-run only', runSd: null, externalDf: null, sampleSd, samplesPerRun });
      }
    }
    if (row.ratio !== null) row.worsening = worseningOf(row.ratio, direction);
    return row;
  });

  // Multiple comparisons: the family is every gated row with a non-degenerate test.
  const family = rows.filter((r) => r.p !== null && r.gated && !r.degenerate);
  const adjusted = adjust(
    family.map((r) => r.p!),
    correction,
  );
  family.forEach((r, i) => (r.pAdjusted = adjusted[i]!));
  for (const r of rows) if (r.p !== null && r.pAdjusted === null) r.pAdjusted = r.p;

  // A single changed metric has to pass Holm's first step, α/m: the MDC is stated at that level.
  const perTestAlpha = correction === 'holm' ? alpha / Math.max(1, family.length) : alpha;
  for (const r of rows) {
    decide(r, alpha, correction);
    const comp = components.get(r);
    if (!comp || r.ratio === null || opts.sensitivity === false) continue;
    r.sensitivity = sensitivityOf(
      comp,
      { baselineRuns: r.baseline!.runs, currentRuns: r.current!.runs, samplesPerRun: comp.samplesPerRun },
      { alpha: r.gated && !r.degenerate ? perTestAlpha : alpha, power, threshold: r.effectiveThreshold, direction: r.direction, target },
    );
  }
  rows.sort((a, b) => a.metric.localeCompare(b.metric) || a.platform.localeCompare(b.platform));
  const warnings: string[] = [];
  const single = rows.filter((r) => r.test === 'samples' && r.p !== null);
  if (single.length > 0) {
    const which = single.length === 1 ? single[0]!.metric : `${single.length} metric rows`;
    warnings.push(
      `the baseline is a single run and ${opts.noise ? `the noise profile has no run medians for ${which}` : `there is no noise profile (${which} tested within the run)`}: ` +
        "run-to-run drift cannot be told apart from a change, and the within-run p-value treats one run's samples as independent (optimistic on a host where whole runs shift). " +
        'Save a baseline of several runs (`bench baseline save <scenario> --runs 5`) or a noise profile (`bench calibrate-noise`)',
    );
  }
  return {
    alpha,
    correction,
    power,
    target,
    baselineRuns: baseline.length,
    currentRuns: current.length,
    rows,
    regressions: rows.filter((r) => r.fails),
    warnings,
  };
}
