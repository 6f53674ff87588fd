import { errorFunction } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { mannWhitneyU, normalTwoSidedP } from '../../src/stats/mann-whitney.js';

// Reference values: scipy.stats.mannwhitneyu (scipy 1.17.1), two-sided,
// https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.mannwhitneyu.html
// scipy's `statistic` for mannwhitneyu(a, b) is our uA.

describe('mannWhitneyU', () => {
  it('exact: completely separated groups of five', () => {
    // mannwhitneyu([1,2,3,4,5], [6,7,8,9,10], method='exact') → statistic 0.0, p 0.007936507936507936 (= 2/252)
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])!;
    expect(r).toMatchObject({ u: 0, uA: 0, uB: 25, z: null, method: 'exact', rankBiserial: -1, cliffsDelta: -1 });
    expect(r.p).toBeCloseTo(2 / 252, 15);
  });

  it('exact: the scipy documentation example (males vs females)', () => {
    // mannwhitneyu([19,22,16,29,24], [20,11,17,12], method='exact') → 17.0, p 0.1111111111111111
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12])!;
    expect(r).toMatchObject({ u: 3, uA: 17, uB: 3, method: 'exact' });
    expect(r.p).toBeCloseTo(0.1111111111111111, 14);
    expect(r.rankBiserial).toBeCloseTo(0.7, 14); // (17 − 3)/20, positive: a tends to be larger
    expect(r.cliffsDelta).toBeCloseTo(0.7, 14);
  });

  it('exact up to 20 × 20', () => {
    // mannwhitneyu(range(1,21), [v+0.5 for v in range(5,25)], method='exact') → 120.0, p 0.030411256038764864
    const a = Array.from({ length: 20 }, (_, i) => i + 1);
    const b = Array.from({ length: 20 }, (_, i) => i + 5.5);
    const r = mannWhitneyU(a, b)!;
    expect(r).toMatchObject({ uA: 120, method: 'exact' });
    expect(r.p).toBeCloseTo(0.030411256038764864, 12);
  });

  it('normal approximation with ties (tie and continuity corrections)', () => {
    // mannwhitneyu([1,2,2,3,4,5,5,6], [3,4,5,5,7,8,8,9,10]) → statistic 12.0, p 0.02255199183742046 (asymptotic)
    const r = mannWhitneyU([1, 2, 2, 3, 4, 5, 5, 6], [3, 4, 5, 5, 7, 8, 8, 9, 10])!;
    expect(r).toMatchObject({ u: 12, uA: 12, uB: 60, method: 'normal' });
    expect(r.p).toBeCloseTo(0.02255199183742046, 7);
    expect(r.z!).toBeLessThan(0);
    expect(r.rankBiserial).toBeCloseTo(-2 / 3, 12);
    expect(r.cliffsDelta).toBeCloseTo(-2 / 3, 12);
  });

  it('normal approximation for large samples keeps tiny p-values', () => {
    // mannwhitneyu(np.arange(50), np.arange(50)+1000) → 0.0, p 7.066071930388932e-18
    const a = Array.from({ length: 50 }, (_, i) => i);
    const r = mannWhitneyU(a, a.map((x) => x + 1000))!;
    expect(r.method).toBe('normal');
    expect(r.p / 7.066071930388932e-18).toBeCloseTo(1, 5);
  });

  it('agrees with the normal approximation in scipy for the documentation example', () => {
    // With method='asymptotic' scipy gives p 0.11134688653314041; our normal branch is used when ties exist,
    // so check the same formula through normalTwoSidedP: z = (17 − 10 − 0.5)/√(5·4·10/12).
    expect(normalTwoSidedP(6.5 / Math.sqrt(200 / 12))).toBeCloseTo(0.11134688653314041, 7);
  });

  it('is antisymmetric in its arguments', () => {
    const a = [3.1, 4.7, 2.2, 9.0, 5.5, 6.1];
    const b = [7.3, 8.8, 6.6, 10.2, 5.9];
    const ab = mannWhitneyU(a, b)!;
    const ba = mannWhitneyU(b, a)!;
    expect(ba.uA).toBe(ab.uB);
    expect(ba.u).toBe(ab.u);
    expect(ba.p).toBeCloseTo(ab.p, 15);
    expect(ba.rankBiserial).toBeCloseTo(-ab.rankBiserial, 15);
    expect(ba.cliffsDelta).toBeCloseTo(-ab.cliffsDelta, 15);
  });

  it('handles edge cases', () => {
    expect(mannWhitneyU([], [1, 2])).toBeNull();
    expect(mannWhitneyU([1], [])).toBeNull();
    expect(mannWhitneyU([1], [2])).toMatchObject({ u: 0, p: 1, method: 'exact', cliffsDelta: -1 });
    // All values tied: no information, zero variance.
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5])).toMatchObject({ u: 4.5, z: null, p: 1, method: 'normal', cliffsDelta: 0 });
    expect(() => mannWhitneyU([Number.NaN], [1])).toThrow(RangeError);
  });
});

describe('normalTwoSidedP', () => {
  it('matches known normal tails and simple-statistics for moderate z', () => {
    expect(normalTwoSidedP(0)).toBeCloseTo(1, 7);
    expect(normalTwoSidedP(1.959963984540054)).toBeCloseTo(0.05, 7);
    expect(normalTwoSidedP(-2.5758293035489)).toBeCloseTo(0.01, 7);
    for (const z of [0.3, 1, 1.7, 2.4, 3.1]) {
      expect(normalTwoSidedP(z)).toBeCloseTo(1 - errorFunction(z / Math.SQRT2), 9);
    }
  });
});
