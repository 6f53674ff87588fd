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
