import type { Sample } from '../../src/results/sample.js';
import { normalSample } from '../stats/synthetic.js';

/** Samples of one metric × platform from raw values. */
export function samplesOf(metric: string, values: readonly number[], platform = 'container', unit: Sample['unit'] = 'ms'): Sample[] {
  return values.map((value, rep) => ({ metric, value, unit, platform, kind: 'docker', rep, warmup: false, timestamp: 0, metadata: {} }));
}

/** n draws from Normal(mean, sd), as samples. */
export function normalSamples(metric: string, n: number, mean: number, sd: number, seed: number, platform = 'container', unit: Sample['unit'] = 'ms'): Sample[] {
  return samplesOf(metric, normalSample(n, mean, sd, seed), platform, unit);
}
