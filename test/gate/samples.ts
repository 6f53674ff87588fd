import type { Sample } from '../../src/results/sample.js';
import { splitV1MetricName } from '../../src/results/upgrade-v1.js';
import { normalSample } from '../stats/synthetic.js';

/** Samples of one series × platform from raw values; the series is named as displayed ("throughput@c=1"). */
export function samplesOf(series: string, values: readonly number[], platform = 'container', unit: Sample['unit'] = 'ms'): Sample[] {
  const { metric, params } = splitV1MetricName(series);
  return values.map((value, rep) => ({ metric, ...(params ? { params } : {}), value, unit, platform, kind: 'docker', rep, warmup: false, timestamp: 0, metadata: {} }));
}

/** n draws from Normal(mean, sd), as samples. */
export function normalSamples(metric: string, n: number, mean: number, sd: number, seed: number, platform = 'container', unit: Sample['unit'] = 'ms'): Sample[] {
  return samplesOf(metric, normalSample(n, mean, sd, seed), platform, unit);
}

export interface SimulatedRunsOptions {
  /** Samples per run. */
  n: number;
  /** Median of the metric without any effect. */
  center: number;
  /** SD of the per-run random effect on the log scale (≈ relative run-to-run drift). */
  runSd: number;
  /** SD of the per-sample noise on the log scale (≈ relative within-run spread). */
  sampleSd: number;
  seed: number;
  /** A real change: every value × (1 + shift). */
  shift?: number;
  metric?: string;
}

/**
 * k runs from the one-way random-effects model on the log scale,
 * log y = log(center·(1 + shift)) + u[run] + e[sample], u ~ N(0, runSd²), e ~ N(0, sampleSd²):
 * whole runs shift, as on a shared host.
 */
export function simulatedRuns(k: number, o: SimulatedRunsOptions): Array<{ runId: string; samples: Sample[] }> {
  const offsets = normalSample(k, 0, o.runSd, o.seed);
  return offsets.map((u, i) => ({
    runId: `run-${o.seed}-${i}`,
    samples: samplesOf(
      o.metric ?? 'cold_start',
      normalSample(o.n, 0, o.sampleSd, o.seed * 7919 + i + 1).map((e) => o.center * (1 + (o.shift ?? 0)) * Math.exp(u + e)),
    ),
  }));
}
