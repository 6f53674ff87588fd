import { median, quantileSorted, quickselect } from 'simple-statistics';
import { seededRandom } from './random.js';
import { assertFinite } from './finite.js';

/**
 * Percentile bootstrap confidence intervals for a median and for a ratio of
 * medians. Pure: randomness comes only from `seed` (mulberry32, the same PRNG
 * that orders a run), so the same values, options and seed always give the
 * same bounds.
 */
export interface BootstrapOptions {
  /** Number of resamples; default 10 000. */
  iterations?: number;
  /** Two-sided coverage in (0, 1); default 0.95. */
  confidence?: number;
  /** PRNG seed; default 1. */
  seed?: number;
}

export interface BootstrapCI {
  low: number;
  high: number;
  iterations: number;
  confidence: number;
  seed: number;
}

export interface BootstrapRatioCI extends BootstrapCI {
  /** median(numerator) ÷ median(denominator) of the original samples. */
  ratio: number;
}

export const DEFAULT_BOOTSTRAP_ITERATIONS = 10_000;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_SEED = 1;

function resolve(opts: BootstrapOptions | undefined): Required<BootstrapOptions> {
  const iterations = opts?.iterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  const confidence = opts?.confidence ?? DEFAULT_CONFIDENCE;
  const seed = opts?.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`bootstrap iterations must be a positive integer, got ${iterations}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`bootstrap confidence must be in (0, 1), got ${confidence}`);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`bootstrap seed must be finite, got ${seed}`);
  return { iterations, confidence, seed };
}

/**
 * Fills `buf` with a resample (with replacement) of `values` and returns its
 * median. `buf` is reused across iterations and reordered in place.
 */
function resampledMedian(values: readonly number[], buf: Float64Array, rand: () => number): number {
  const n = buf.length;
  for (let i = 0; i < n; i++) buf[i] = values[Math.floor(rand() * n)]!;
  // simple-statistics' quickselect only indexes and swaps, so a typed array is fine.
  const arr = buf as unknown as number[];
  const k = (n - 1) >> 1;
  quickselect(arr, k);
  if (n % 2 === 1) return buf[k]!;
  // Even n: the upper middle is the smallest element right of k.
  let upper = Infinity;
  for (let i = k + 1; i < n; i++) if (buf[i]! < upper) upper = buf[i]!;
  return (buf[k]! + upper) / 2;
}

/** Percentile interval (type-7 quantiles, as everywhere else here) of the bootstrap replicates. */
function percentileInterval(replicates: Float64Array, confidence: number): { low: number; high: number } {
  replicates.sort();
  const sorted = replicates as unknown as readonly number[];
  const alpha = 1 - confidence;
  return { low: quantileSorted(sorted, alpha / 2), high: quantileSorted(sorted, 1 - alpha / 2) };
}

/**
 * Percentile-bootstrap CI of the median. Null when there are fewer than two
 * values (one value has no spread to resample). Throws RangeError on
 * non-finite values or invalid options.
 */
export function bootstrapMedianCI(values: readonly number[], opts?: BootstrapOptions): BootstrapCI | null {
  const { iterations, confidence, seed } = resolve(opts);
  assertFinite(values, 'values');
  if (values.length < 2) return null;
  const rand = seededRandom(seed);
  const buf = new Float64Array(values.length);
  const replicates = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) replicates[it] = resampledMedian(values, buf, rand);
  return { ...percentileInterval(replicates, confidence), iterations, confidence, seed };
}

/**
 * Ratio of medians, median(numerator) ÷ median(denominator) (e.g. VM ÷
 * container), with a percentile-bootstrap CI that resamples each group
 * independently. Null when either group has fewer than two values, when the
 * denominator's median is 0, or when any resampled denominator median is 0
 * (the ratio is then unbounded; happens only if the denominator contains zeros).
 */
export function bootstrapRatioCI(
  numerator: readonly number[],
  denominator: readonly number[],
  opts?: BootstrapOptions,
): BootstrapRatioCI | null {
  const { iterations, confidence, seed } = resolve(opts);
  assertFinite(numerator, 'numerator');
  assertFinite(denominator, 'denominator');
  if (numerator.length < 2 || denominator.length < 2) return null;
  const denMedian = median(denominator);
  if (denMedian === 0) return null;
  const ratio = median(numerator) / denMedian;
  const rand = seededRandom(seed);
  const numBuf = new Float64Array(numerator.length);
  const denBuf = new Float64Array(denominator.length);
  const replicates = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    const num = resampledMedian(numerator, numBuf, rand);
    const den = resampledMedian(denominator, denBuf, rand);
    if (den === 0) return null;
    replicates[it] = num / den;
  }
  return { ratio, ...percentileInterval(replicates, confidence), iterations, confidence, seed };
}
