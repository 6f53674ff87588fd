import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { assertFinite } from './finite.js';

/**
 * Robust outlier flagging with the modified z-score of Iglewicz & Hoaglin
 * (1993, "How to Detect and Handle Outliers"):
 *
 *   M = 0.6745 · (x − median) / MAD
 *
 * where MAD is the median absolute deviation from the median (0.6745 makes M
 * comparable with an ordinary z-score for normal data). |M| > 3.5 marks a
 * potential outlier. When MAD = 0 (more than half the values equal) the
 * mean-absolute-deviation variant is used instead:
 *
 *   M = (x − median) / (1.253314 · MeanAD),  MeanAD = mean(|x − median|)
 *
 * (1.253314 ≈ √(π/2) makes MeanAD consistent with σ for normal data). When
 * MeanAD is 0 too, every value is identical and nothing is flagged.
 * Outliers are only flagged, never removed: every sample stays in the record.
 */
export interface Outlier {
  /** Position in the input array. */
  index: number;
  value: number;
  /** Modified z-score (signed: negative below the median). */
  z: number;
}

export interface OutlierOptions {
  /** |M| strictly above this is flagged; default 3.5. */
  threshold?: number;
}

export const DEFAULT_OUTLIER_THRESHOLD = 3.5;
const MAD_SCALE = 0.6745;
const MEAN_AD_SCALE = 1.253314;

/**
 * Modified z-score of every value, in input order; null when it is undefined
 * (no values, or all values identical).
 */
export function modifiedZScores(values: readonly number[]): number[] | null {
  assertFinite(values, 'values');
  if (values.length === 0) return null;
  const med = median(values);
  const mad = medianAbsoluteDeviation(values);
  if (mad > 0) return values.map((x) => (MAD_SCALE * (x - med)) / mad);
  let sumAbs = 0;
  for (const x of values) sumAbs += Math.abs(x - med);
  const meanAD = sumAbs / values.length;
  if (meanAD === 0) return null;
  return values.map((x) => (x - med) / (MEAN_AD_SCALE * meanAD));
}

/** Values whose |modified z-score| exceeds the threshold, in input order. */
export function madOutliers(values: readonly number[], opts?: OutlierOptions): Outlier[] {
  const threshold = opts?.threshold ?? DEFAULT_OUTLIER_THRESHOLD;
  if (!(threshold >= 0)) throw new RangeError(`outlier threshold must be ≥ 0, got ${threshold}`);
  const scores = modifiedZScores(values);
  if (!scores) return [];
  const out: Outlier[] = [];
  scores.forEach((z, index) => {
    if (Math.abs(z) > threshold) out.push({ index, value: values[index]!, z });
  });
  return out;
}
