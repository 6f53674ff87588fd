import { bootstrapMedianCI, bootstrapRatioCI } from './bootstrap.js';
import { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';
import { madOutliers, type Outlier } from './outliers.js';
import { medianRatio, summarize, type Summary } from './summary.js';

/**
 * What the runner stores per metric × platform, and the comparison it draws
 * between two platforms ("VM ÷ container"). Pure; the bootstrap is seeded.
 */
export interface DescribeOptions {
  /** Bootstrap seed: record it (e.g. the plan's seed) so the CI can be reproduced. */
  seed: number;
  /** Bootstrap resamples; default 10 000. */
  iterations?: number;
  /** Modified-z threshold for outliers; default 3.5. */
  outlierThreshold?: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface Described extends Summary {
  /** 95 % percentile-bootstrap CI of the median; null when n < 2. */
  ci95: Interval | null;
  /** Flagged (never removed) by the modified z-score; see outliers.ts. */
  outliers: Outlier[];
}

/** Summary + bootstrap CI of the median + flagged outliers; null for no values. */
export function describeSamples(values: readonly number[], opts: DescribeOptions): Described | null {
  const summary = summarize(values);
  if (!summary) return null;
  const ci = bootstrapMedianCI(values, { seed: opts.seed, iterations: opts.iterations, confidence: 0.95 });
  return {
    ...summary,
    ci95: ci ? { low: ci.low, high: ci.high } : null,
    outliers: madOutliers(values, { threshold: opts.outlierThreshold }),
  };
}

export interface CompareOptions {
  seed: number;
  iterations?: number;
  /** Significance level for `significant`; default 0.05. */
  alpha?: number;
}

export interface Comparison {
  /** median(other) ÷ median(reference); null when either is empty or the reference median is 0. */
  ratio: number | null;
  /** 95 % bootstrap CI of that ratio; null when either group has n < 2 or it is unbounded. */
  ratioCI: Interval | null;
  /** Mann–Whitney U of `other` vs `reference`: positive effect sizes mean `other` is larger. */
  mannWhitney: MannWhitneyResult | null;
  /** mannWhitney.p < alpha (false when the test is undefined). */
  significant: boolean;
}

/** Compares `other` (e.g. a VM) with `reference` (e.g. the container baseline). */
export function compareGroups(
  reference: readonly number[],
  other: readonly number[],
  opts: CompareOptions,
): Comparison {
  const alpha = opts.alpha ?? 0.05;
  const ci = bootstrapRatioCI(other, reference, { seed: opts.seed, iterations: opts.iterations, confidence: 0.95 });
  const mannWhitney = mannWhitneyU(other, reference);
  return {
    ratio: medianRatio(summarize(other), summarize(reference)),
    ratioCI: ci ? { low: ci.low, high: ci.high } : null,
    mannWhitney,
    significant: mannWhitney !== null && mannWhitney.p < alpha,
  };
}
