import { describe, expect, it } from 'vitest';
import { incompleteBeta, lnGamma, tCdf, tQuantile, tTwoSidedP } from '../../src/stats/student-t.js';

describe("Student's t", () => {
  it('quantiles match R qt()', () => {
    // qt(0.975, c(1, 2, 4, 9, 30)); qt(0.8, 4)
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706205, 5);
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.302653, 5);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776445, 5);
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262157, 5);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042272, 5);
    expect(tQuantile(0.8, 4)).toBeCloseTo(0.940965, 5);
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.776445, 5);
    expect(tQuantile(0.975, Infinity)).toBeCloseTo(1.959964, 5);
  });

  it('CDF and two-sided p match R pt()', () => {
    expect(tCdf(2, 5)).toBeCloseTo(0.9490303, 6); // pt(2, 5)
    expect(tCdf(-1, 3)).toBeCloseTo(0.1955011, 6); // pt(-1, 3)
    expect(tTwoSidedP(2.776445, 4)).toBeCloseTo(0.05, 6);
    expect(tTwoSidedP(0, 7)).toBe(1);
    expect(tTwoSidedP(Infinity, 7)).toBe(0);
    expect(tTwoSidedP(1.959964, Infinity)).toBeCloseTo(0.05, 5);
  });

  it('building blocks', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(incompleteBeta(0.3, 2, 3)).toBeCloseTo(0.3483, 4); // pbeta(0.3, 2, 3)
    expect(() => tQuantile(1, 3)).toThrow(RangeError);
    expect(() => tCdf(1, 0)).toThrow(RangeError);
  });
});
