/**
 * Change-point detection for a nightly series (one median per run, in time
 * order), so a slow drift is caught even when no single night crosses the
 * gate's threshold. Pure; the permutations are seeded.
 *
 * Method: binary segmentation with a permutation test, in the spirit of
 * E-divisive means as MongoDB and Hunter use it, with a standardised
 * difference of means as the divergence:
 *  1. For every split τ of the segment, compare the points before it, L =
 *     [start, τ), with the points after it up to some κ, R = [τ, κ) (each at
 *     least `minSize` long; κ ranges over the rest of the segment, as in
 *     E-divisive, so a regression that was later fixed is found too):
 *     score = |mean(R) − mean(L)|·√(nL·nR/(nL + nR)) / σ, σ the segment's
 *     noise scale (MAD of consecutive differences, robust to the step
 *     itself); take the τ with the largest score.
 *  2. Significance: shuffle the segment `permutations` times and recompute the
 *     largest score each time (σ included);
 *     p = (1 + #{shuffled ≥ observed}) / (permutations + 1).
 *     Shuffling destroys any order, so p is the chance of a split this strong
 *     in a series without a change (the max over splits is accounted for).
 *  3. Accept the split when p < alpha and the relative change of the mean is at
 *     least `minRelativeChange`; then search the left and right parts again.
 * A linear drift has no single step but its two halves differ in mean, so it
 * is reported as a change point near its middle.
 */
import { median } from 'simple-statistics';
import { seededRandom } from '../stats/random.js';

export interface ChangePointOptions {
  /** Significance of each accepted split; default 0.01. */
  alpha?: number;
  /** Shuffles per test; default 499. */
  permutations?: number;
  /** Fewest points on each side of a split; default 3. */
  minSize?: number;
  /** Smallest |mean after − mean before| / |mean before| reported; default 0.05. */
  minRelativeChange?: number;
  seed?: number;
}

export interface ChangePoint {
  /** Index of the first point after the change. */
  index: number;
  meanBefore: number;
  meanAfter: number;
  /** meanAfter ÷ meanBefore − 1. */
  relativeChange: number;
  p: number;
  /** The split's score (standardised difference of means). */
  t: number;
}

export const DEFAULT_CHANGE_POINT_ALPHA = 0.01;

interface Split {
  index: number;
  t: number;
}

/**
 * The noise scale of a series, robust to steps and drifts: the MAD of the
 * consecutive differences, centred, ÷ (0.6745·√2) (consistent for the
 * standard deviation of Gaussian noise). Falls back to the standard deviation
 * when that is 0.
 */
function noiseScale(values: ArrayLike<number>, from: number, to: number): number {
  const diffs: number[] = [];
  for (let i = from + 1; i < to; i++) diffs.push(values[i]! - values[i - 1]!);
  const med = medianOf(diffs);
  const mad = medianOf(diffs.map((d) => Math.abs(d - med)));
  if (mad > 0) return mad / (0.6745 * Math.SQRT2);
  const m = mean(values, from, to);
  let ss = 0;
  for (let i = from; i < to; i++) ss += (values[i]! - m) ** 2;
  return Math.sqrt(ss / Math.max(1, to - from - 1));
}

/** 0 for a segment of one point (no differences): the standard-deviation fallback then applies. */
function medianOf(xs: number[]): number {
  return xs.length === 0 ? 0 : median(xs);
}

/**
 * The strongest split τ of values[from, to): the points before it, L =
 * [from, τ), against the points after it up to some κ ≤ to, R = [τ, κ) (as
 * E-divisive does, so a change that was later undone, 100 → 120 → 100, is
 * found too). score = |mean(R) − mean(L)|·√(nL·nR/(nL + nR)) / σ, with σ the
 * noise scale of the whole segment.
 */
function bestSplit(values: ArrayLike<number>, from: number, to: number, minSize: number): Split | null {
  const n = to - from;
  if (n < 2 * minSize) return null;
  const sigma = noiseScale(values, from, to);
  const sum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) sum[i + 1] = sum[i]! + values[from + i]!;
  let best: Split | null = null;
  for (let tau = minSize; tau <= n - minSize; tau++) {
    const nL = tau;
    const meanL = sum[tau]! / nL;
    for (let kappa = tau + minSize; kappa <= n; kappa++) {
      const nR = kappa - tau;
      const meanR = (sum[kappa]! - sum[tau]!) / nR;
      const diff = Math.abs(meanR - meanL) * Math.sqrt((nL * nR) / (nL + nR));
      const score = sigma > 0 ? diff / sigma : diff > 0 ? Infinity : 0;
      if (!best || score > best.t) best = { index: from + tau, t: score };
    }
  }
  return best;
}

function mean(values: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i]!;
  return s / (to - from);
}

/**
 * Whether some split of values[from, to) scores at least `t` (the permutation
 * test only needs that, not the best split: it stops at the first one).
 * Compares squared scores, so the inner loop has no square root.
 */
function anySplitAtLeast(values: ArrayLike<number>, from: number, to: number, minSize: number, t: number): boolean {
  const n = to - from;
  if (n < 2 * minSize) return false;
  const sigma = noiseScale(values, from, to);
  if (!(sigma > 0)) {
    const s = bestSplit(values, from, to, minSize);
    return s !== null && s.t >= t;
  }
  const target = t * t * sigma * sigma;
  const sum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) sum[i + 1] = sum[i]! + values[from + i]!;
  // score² ≥ t² ⟺ (ΣR − nR·meanL)² · nL ≥ t²σ² · nR · (nL + nR): multiplications only in the inner loop.
  for (let tau = minSize; tau <= n - minSize; tau++) {
    const nL = tau;
    const meanL = sum[tau]! / nL;
    const sumTau = sum[tau]!;
    for (let kappa = tau + minSize; kappa <= n; kappa++) {
      const nR = kappa - tau;
      const d = sum[kappa]! - sumTau - nR * meanL;
      if (d * d * nL >= target * nR * (nL + nR)) return true;
    }
  }
  return false;
}

/** A seed per segment, so each test draws the same shuffles whatever the other segments did. */
function segmentSeed(seed: number, from: number, to: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(from + 1, 0xc2b2ae35) ^ Math.imul(to + 1, 0x27d4eb2f)) >>> 0;
}

/**
 * Change points of `values` (in time order), sorted by index.
 *
 * The permutation test stops as soon as its outcome is known: a split too
 * small to report (below `minRelativeChange`) is not tested at all, and the
 * shuffling stops once enough shuffles reached the observed score for p to
 * be ≥ alpha. Neither changes which splits are accepted; an accepted split
 * still gets every shuffle, so its p is the full permutation p.
 */
export function detectChangePoints(values: readonly number[], opts: ChangePointOptions = {}): ChangePoint[] {
  const alpha = opts.alpha ?? DEFAULT_CHANGE_POINT_ALPHA;
  const permutations = opts.permutations ?? 499;
  const minSize = opts.minSize ?? 3;
  const minRelativeChange = opts.minRelativeChange ?? 0.05;
  const seed = opts.seed ?? 1;
  const found: ChangePoint[] = [];
  // p = (1 + atLeast) / (permutations + 1) ≥ alpha as soon as atLeast reaches this.
  const rejectAt = Math.max(0, Math.ceil(alpha * (permutations + 1) - 1 - 1e-9));

  const search = (from: number, to: number): void => {
    const split = bestSplit(values, from, to, minSize);
    if (!split || split.t === 0) return;
    const meanBefore = mean(values, from, split.index);
    const meanAfter = mean(values, split.index, to);
    const relativeChange = meanBefore === 0 ? Infinity : meanAfter / meanBefore - 1;
    if (Math.abs(relativeChange) < minRelativeChange) return;
    // Significance by shuffling the segment (Fisher–Yates on a copy); each segment draws from its own seeded stream.
    const rand = seededRandom(segmentSeed(seed, from, to));
    const buf = Float64Array.from(values.slice(from, to));
    let atLeast = 0;
    for (let k = 0; k < permutations && atLeast < rejectAt; k++) {
      for (let i = buf.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const tmp = buf[i]!;
        buf[i] = buf[j]!;
        buf[j] = tmp;
      }
      if (anySplitAtLeast(buf, 0, buf.length, minSize, split.t)) atLeast++;
    }
    if (atLeast >= rejectAt && rejectAt > 0) return;
    const p = (1 + atLeast) / (permutations + 1);
    if (p >= alpha) return;
    found.push({ index: split.index, meanBefore, meanAfter, relativeChange, p, t: split.t });
    search(from, split.index);
    search(split.index, to);
  };
  search(0, values.length);
  return found.sort((a, b) => a.index - b.index);
}
