import { assertFinite } from './finite.js';

/**
 * Mann–Whitney U (Wilcoxon rank-sum) test, two-sided, for two independent
 * samples — e.g. VM start-up times vs container start-up times. Pure.
 *
 * Conventions (matching scipy.stats.mannwhitneyu where it has a counterpart):
 * - uA = R_A − nA(nA+1)/2, the number of pairs (a, b) with a > b, ties
 *   counting ½ (scipy's `statistic` for mannwhitneyu(a, b)); uB = nA·nB − uA;
 *   u = min(uA, uB), the classic tabulated statistic.
 * - Exact p (method 'exact') when there are no ties and nA·nB ≤ 400 (covers
 *   both n ≤ 20): the null distribution of U is counted by dynamic
 *   programming; p = 2·P(U ≤ u), capped at 1.
 * - Otherwise the normal approximation (method 'normal') with tie-corrected
 *   variance and a ½ continuity correction, as scipy's 'asymptotic' method.
 * - Effect sizes are signed so that POSITIVE means `a` tends to be LARGER
 *   than `b`: rankBiserial = 1 − 2·uB/(nA·nB) = (uA − uB)/(nA·nB), and
 *   cliffsDelta = (#{a > b} − #{a < b})/(nA·nB). The two are the same
 *   quantity (Cliff's delta equals the rank-biserial correlation); cliffsDelta
 *   is counted directly from pairs and rankBiserial from the rank sum.
 */
export interface MannWhitneyResult {
  /** min(uA, uB). */
  u: number;
  uA: number;
  uB: number;
  /**
   * Standard normal deviate of uA (continuity-corrected, tie-corrected; positive
   * when a tends to be larger). Null for the exact method and when every value
   * is tied (zero variance).
   */
  z: number | null;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
  rankBiserial: number;
  cliffsDelta: number;
}

/** Largest nA·nB for which the exact distribution is used (when there are no ties). */
export const MAX_EXACT_PRODUCT = 400;

interface Ranked {
  /** Sum of the (mid-)ranks of sample a. */
  rankSumA: number;
  /** Σ (t³ − t) over tie groups. */
  tieTerm: number;
  /** Pairs with a > b, and with a = b. */
  greater: number;
  ties: number;
}

function rank(a: readonly number[], b: readonly number[]): Ranked {
  const nA = a.length;
  const all = [...a, ...b];
  const order = all.map((_, i) => i).sort((i, j) => all[i]! - all[j]!);
  let rankSumA = 0;
  let tieTerm = 0;
  let greater = 0;
  let ties = 0;
  let bBelow = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && all[order[end]!] === all[order[start]!]) end++;
    const t = end - start;
    const midRank = (start + 1 + end) / 2; // ranks start+1 … end
    let groupA = 0;
    for (let k = start; k < end; k++) if (order[k]! < nA) groupA++;
    const groupB = t - groupA;
    rankSumA += groupA * midRank;
    tieTerm += t * t * t - t;
    greater += groupA * bBelow;
    ties += groupA * groupB;
    bBelow += groupB;
    start = end;
  }
  return { rankSumA, tieTerm, greater, ties };
}

/**
 * Counts of U = 0 … nA·nB over all C(nA+nB, nA) equally likely arrangements
 * without ties. count(i, j, u) = count(i−1, j, u−j) + count(i, j−1, u): the
 * largest of i+j values is either an a (beating all j b's) or a b.
 */
function exactUCounts(nA: number, nB: number): Float64Array {
  const size = nA * nB + 1;
  const delta0 = (): Float64Array => {
    const row = new Float64Array(size);
    row[0] = 1;
    return row;
  };
  let prev: Float64Array[] = Array.from({ length: nB + 1 }, delta0); // i = 0
  for (let i = 1; i <= nA; i++) {
    const cur: Float64Array[] = [delta0()]; // j = 0
    for (let j = 1; j <= nB; j++) {
      const up = prev[j]!;
      const left = cur[j - 1]!;
      const row = new Float64Array(size);
      for (let u = 0; u < size; u++) row[u] = left[u]! + (u >= j ? up[u - j]! : 0);
      cur.push(row);
    }
    prev = cur;
  }
  return prev[nB]!;
}

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (erfcc,
 * fractional error < 1.2e-7 everywhere). simple-statistics' errorFunction uses
 * the same fit but returns erf = 1 − erfc, so 1 − errorFunction(x) cancels to
 * 0 for large x; a p-value needs the tail itself.
 */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const tau =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? tau : 2 - tau;
}

/** Two-sided tail probability of a standard normal deviate: P(|Z| ≥ |z|). */
export function normalTwoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** Two-sided Mann–Whitney U test of a vs b; null when either sample is empty. */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult | null {
  assertFinite(a, 'a');
  assertFinite(b, 'b');
  const nA = a.length;
  const nB = b.length;
  if (nA === 0 || nB === 0) return null;
  const pairs = nA * nB;
  const { rankSumA, tieTerm, greater, ties } = rank(a, b);
  const uA = rankSumA - (nA * (nA + 1)) / 2;
  const uB = pairs - uA;
  const u = Math.min(uA, uB);
  const less = pairs - greater - ties;
  const effects = { rankBiserial: 1 - (2 * uB) / pairs, cliffsDelta: (greater - less) / pairs };

  if (tieTerm === 0 && pairs <= MAX_EXACT_PRODUCT) {
    const counts = exactUCounts(nA, nB);
    let total = 0;
    let atOrBelow = 0;
    for (let k = 0; k < counts.length; k++) {
      total += counts[k]!;
      if (k <= u) atOrBelow += counts[k]!;
    }
    return { u, uA, uB, z: null, p: Math.min(1, (2 * atOrBelow) / total), method: 'exact', ...effects };
  }

  const n = nA + nB;
  const mu = pairs / 2;
  const variance = (pairs / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u, uA, uB, z: null, p: 1, method: 'normal', ...effects };
  const dev = uA - mu;
  const z = (Math.sign(dev) * Math.max(0, Math.abs(dev) - 0.5)) / Math.sqrt(variance);
  return { u, uA, uB, z, p: normalTwoSidedP(z), method: 'normal', ...effects };
}
