import { describe, expect, it } from 'vitest';
import { madOutliers, modifiedZScores } from '../../src/stats/outliers.js';

describe('madOutliers (modified z-score, Iglewicz & Hoaglin)', () => {
  it('flags a gross outlier in start-up times', () => {
    // Worked by hand: sorted 795 798 801 805 809 812 820 2100 → median 807.
    // |x − 807| = 5 9 2 13 6 12 1293 2 → sorted 2 2 5 6 9 12 13 1293 → MAD 7.5.
    // M(2100) = 0.6745·1293/7.5 = 116.2838; M(820) = 0.6745·13/7.5 = 1.169133; M(795) = −1.0792.
    const xs = [812, 798, 805, 820, 801, 795, 2100, 809];
    const out = madOutliers(xs);
    expect(out).toHaveLength(1);
    expect(out[0]!.index).toBe(6);
    expect(out[0]!.value).toBe(2100);
    expect(out[0]!.z).toBeCloseTo(116.2838, 9);

    const z = modifiedZScores(xs)!;
    expect(z[3]).toBeCloseTo(1.1691333, 6);
    expect(z[5]).toBeCloseTo(-1.0792, 6);

    // A lower threshold also flags the mild ones, signed, in input order.
    const loose = madOutliers(xs, { threshold: 1 });
    expect(loose.map((o) => o.index)).toEqual([3, 5, 6]);
    expect(loose[1]!.z).toBeLessThan(0);
  });

  it('computes the textbook small case', () => {
    // median 3, MAD = median(2,1,0,1,97) = 1 → M(100) = 0.6745·97 = 65.4265.
    expect(madOutliers([1, 2, 3, 4, 100])).toEqual([{ index: 4, value: 100, z: expect.closeTo(65.4265, 10) }]);
  });

  it('falls back to the mean absolute deviation when MAD is 0', () => {
    // median 5, MAD 0; MeanAD = 4/7 → M(9) = 4 / (1.253314 · 4/7) = 7/1.253314.
    const out = madOutliers([5, 5, 5, 5, 5, 5, 9]);
    expect(out).toEqual([{ index: 6, value: 9, z: expect.closeTo(7 / 1.253314, 10) }]);
  });

  it('flags nothing when there is no spread, and never drops values', () => {
    expect(madOutliers([])).toEqual([]);
    expect(madOutliers([3])).toEqual([]);
    expect(madOutliers([4, 4, 4, 4])).toEqual([]);
    expect(modifiedZScores([4, 4, 4])).toBeNull();
    const xs = [1, 2, 3, 4, 100];
    madOutliers(xs);
    expect(xs).toEqual([1, 2, 3, 4, 100]);
  });

  it('rejects bad input', () => {
    expect(() => madOutliers([1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
    expect(() => madOutliers([1, 2], { threshold: -1 })).toThrow(RangeError);
  });
});
