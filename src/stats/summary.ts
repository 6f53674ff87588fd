import { max, mean, median, min, quantileSorted, sampleStandardDeviation } from 'simple-statistics';

/** Spread and centre of one metric's samples. Pure. */
export interface Summary {
  n: number;
  median: number;
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (n-1); null when n < 2. */
  stdev: number | null;
  p5: number;
  p95: number;
  /** Coefficient of variation (stdev / mean); null when undefined. */
  cv: number | null;
}

export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const xs = [...values];
  const sorted = [...values].sort((a, b) => a - b);
  const sd = xs.length >= 2 ? sampleStandardDeviation(xs) : null;
  const m = mean(xs);
  return {
    n: xs.length,
    median: median(xs),
    mean: m,
    min: min(xs),
    max: max(xs),
    stdev: sd,
    p5: quantileSorted(sorted, 0.05),
    p95: quantileSorted(sorted, 0.95),
    cv: sd === null || m === 0 ? null : sd / m,
  };
}

/** Ratio of two medians (e.g. VM ÷ container); null when either is missing or the divisor is 0. */
export function medianRatio(numerator: Summary | null, denominator: Summary | null): number | null {
  if (!numerator || !denominator || denominator.median === 0) return null;
  return numerator.median / denominator.median;
}
