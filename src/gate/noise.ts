/**
 * The noise floor of a host: how much each metric's median moves between
 * identical runs of the same scenario (A/A runs, `bench calibrate-noise`).
 * Pure: takes the runs' samples, returns one entry per metric × platform.
 *
 * relativeSpread = (max − min) / median of the K per-run medians, i.e. the
 * largest run-to-run change of the median seen in K identical runs, as a
 * fraction. `compare` never uses a threshold below it, and for metrics with
 * one reading per run (memory, throughput, image size …) it is the only
 * yardstick: such a metric regresses only when it moved more than both the
 * threshold and this spread.
 */
import { median } from 'simple-statistics';
import { sampleLabel, type Sample } from '../results/sample.js';

export interface NoiseEntry {
  metric: string;
  platform: string;
  unit: string;
  /** Runs in which the metric was measured. */
  runs: number;
  /** Median of each run, in run order. */
  medians: number[];
  /** (max − min) / median of `medians`; null when that median is 0. */
  relativeSpread: number | null;
}

export interface NoiseProfile {
  kind: 'vmbench-noise';
  schemaVersion: 1;
  scenario: string;
  hostKey: string;
  createdAt: string;
  runIds: string[];
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
  for (const run of runs) {
    for (const [key, g] of groupSamples(run.samples)) {
      let e = perSeries.get(key);
      if (!e) perSeries.set(key, (e = { metric: g.metric, platform: g.platform, unit: g.unit, runs: 0, medians: [], relativeSpread: null }));
      e.runs += 1;
      e.medians.push(median(g.values));
    }
  }
  const out: NoiseEntry[] = [];
  for (const e of perSeries.values()) {
    if (e.runs < 2) continue;
    const mid = median(e.medians);
    const spread = Math.max(...e.medians) - Math.min(...e.medians);
    out.push({ ...e, relativeSpread: mid === 0 ? null : Math.abs(spread / mid) });
  }
  return out.sort((a, b) => a.metric.localeCompare(b.metric) || a.platform.localeCompare(b.platform));
}

/** Lookup: metric × platform → relative spread. */
export function noiseLookup(entries: readonly NoiseEntry[] | undefined): (metric: string, platform: string) => number | null {
  const map = new Map<string, number>();
  for (const e of entries ?? []) if (e.relativeSpread !== null) map.set(seriesKey(e.metric, e.platform), e.relativeSpread);
  return (metric, platform) => map.get(seriesKey(metric, platform)) ?? null;
}
