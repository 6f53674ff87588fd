/**
 * The noise floor of a host: how much each metric's median moves between
 * identical runs of the same scenario (A/A runs, `bench calibrate-noise`).
 * Pure: takes the runs' samples, returns one entry per metric × platform.
 *
 * relativeSpread = (max − min) / median of the K per-run medians, i.e. the
 * largest run-to-run change of the median seen in K identical runs, as a
 * fraction; runSd = the SD of their logs (the run-to-run SD the run-level test
 * uses when the baseline is a single run); sampleSd = the spread within a run.
 * With a single baseline run, `compare` uses runSd for a run-level test; only
 * where an entry has no run medians does it fall back to never using a
 * threshold below relativeSpread.
 */
import { median } from 'simple-statistics';
import { sampleLabel, type Sample } from '../results/sample.js';
import { logSd } from './run-level.js';
import { recommendDesign, sensitivityOf, withinRunLogSd, type NoiseComponents, type Recommendation, type Sensitivity, type SensitivityGoal } from './sensitivity.js';

export interface NoiseEntry {
  /** The series' display name (metric + parameters). */
  metric: string;
  /** The metric alone (for its direction); absent in older profiles. */
  base?: string;
  platform: string;
  unit: string;
  /** Runs in which the metric was measured. */
  runs: number;
  /** Median of each run, in run order. */
  medians: number[];
  /** (max − min) / median of `medians`; null when that median is 0. */
  relativeSpread: number | null;
  /** SD of the logs of `medians` (≈ relative run-to-run SD); absent in profiles written before it was recorded. */
  runSd?: number | null;
  /** Robust per-sample SD of the logs within a run (sensitivity.ts); null for one reading per run. */
  sampleSd?: number | null;
  /** Samples per run (median over the runs). */
  samplesPerRun?: number;
  /** MDC of a baseline of these runs against one current run, at the profile's goal (calibrate-noise). */
  mdc?: number;
  /** The cheapest design that reaches the goal's target; null when none within the limits does. */
  recommendation?: Recommendation | null;
}

export interface NoiseProfile {
  kind: 'vmbench-noise';
  schemaVersion: 1;
  scenario: string;
  hostKey: string;
  createdAt: string;
  runIds: string[];
  /** What the recommendations assume (α, power, target change); absent in older profiles. */
  goal?: { alpha: number; power: number; target: number };
  metrics: NoiseEntry[];
}

export interface RunSamples {
  runId: string;
  samples: readonly Sample[];
}

/** One series' measured values: `metric` is its display name (metric + parameters), `base` the metric alone. */
export interface SampleGroup {
  metric: string;
  base: string;
  platform: string;
  unit: string;
  values: number[];
}

/** Groups non-warmup samples by series (metric + parameters) × platform. */
export function groupSamples(samples: readonly Sample[]): Map<string, SampleGroup> {
  const groups = new Map<string, SampleGroup>();
  for (const s of samples) {
    if (s.warmup || !Number.isFinite(s.value)) continue;
    const label = sampleLabel(s);
    const key = seriesKey(label, s.platform);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric: label, base: s.metric, platform: s.platform, unit: s.unit, values: [] }));
    g.values.push(s.value);
  }
  return groups;
}

export function seriesKey(metric: string, platform: string): string {
  return `${metric}\u0000${platform}`;
}

/** Noise entries from K ≥ 2 runs; a metric measured in fewer than 2 runs gets no entry. */
export function computeNoise(runs: readonly RunSamples[]): NoiseEntry[] {
  const perSeries = new Map<string, NoiseEntry>();
  const values = new Map<string, number[][]>();
  for (const run of runs) {
    for (const [key, g] of groupSamples(run.samples)) {
      let e = perSeries.get(key);
      if (!e) perSeries.set(key, (e = { metric: g.metric, base: g.base, platform: g.platform, unit: g.unit, runs: 0, medians: [], relativeSpread: null }));
      e.runs += 1;
      e.medians.push(median(g.values));
      values.set(key, [...(values.get(key) ?? []), g.values]);
    }
  }
  const out: NoiseEntry[] = [];
  for (const [key, e] of perSeries) {
    if (e.runs < 2) continue;
    const mid = median(e.medians);
    const spread = Math.max(...e.medians) - Math.min(...e.medians);
    const perRun = values.get(key)!;
    out.push({
      ...e,
      relativeSpread: mid === 0 ? null : Math.abs(spread / mid),
      runSd: logSd(e.medians),
      sampleSd: withinRunLogSd(perRun),
      samplesPerRun: Math.round(median(perRun.map((v) => v.length))),
    });
  }
  return out.sort((a, b) => a.metric.localeCompare(b.metric) || a.platform.localeCompare(b.platform));
}

/** Lookup: metric × platform → its noise entry. */
export function noiseEntryLookup(entries: readonly NoiseEntry[] | undefined): (metric: string, platform: string) => NoiseEntry | null {
  const map = new Map<string, NoiseEntry>();
  for (const e of entries ?? []) map.set(seriesKey(e.metric, e.platform), e);
  return (metric, platform) => map.get(seriesKey(metric, platform)) ?? null;
}

/**
 * What a noise entry says about the gate's sensitivity: the MDC of a baseline
 * of K runs like these (K = the profile's runs) against one current run, and
 * the cheapest design (repetitions per run, baseline runs, runs per night)
 * that catches `goal.target` with `goal.power`. Null without a run-to-run SD.
 */
export function noiseSensitivity(e: NoiseEntry, goal: SensitivityGoal): { sensitivity: Sensitivity; recommendation: Recommendation | null } | null {
  const runSd = e.runSd ?? logSd(e.medians);
  if (runSd === null) return null;
  const c: NoiseComponents = { basis: 'runs', runSd, externalDf: null, sampleSd: e.sampleSd ?? null, samplesPerRun: e.samplesPerRun ?? 1 };
  const design = { baselineRuns: e.runs, currentRuns: 1, samplesPerRun: c.samplesPerRun };
  return { sensitivity: sensitivityOf(c, design, goal), recommendation: recommendDesign(c, goal) };
}
