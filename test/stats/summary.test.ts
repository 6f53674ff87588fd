import { describe, expect, it } from 'vitest';
import { medianRatio, summarize } from '../../src/stats/summary.js';

describe('summarize', () => {
  it('computes known values', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9])!;
    expect(s.n).toBe(8);
    expect(s.median).toBe(4.5);
    expect(s.mean).toBe(5);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.stdev).toBeCloseTo(2.138089935, 8); // sample (n-1) standard deviation
    expect(s.cv).toBeCloseTo(2.138089935 / 5, 8);
  });

  it('does not reorder its input and handles one sample', () => {
    const xs = [3, 1, 2];
    summarize(xs);
    expect(xs).toEqual([3, 1, 2]);
    const one = summarize([42])!;
    expect(one).toMatchObject({ n: 1, median: 42, min: 42, max: 42, stdev: null, cv: null });
  });

  it('returns null for no samples', () => {
    expect(summarize([])).toBeNull();
  });

  it('ratio of medians', () => {
    expect(medianRatio(summarize([10, 20, 30]), summarize([1, 2, 3]))).toBe(10);
    expect(medianRatio(summarize([1]), summarize([0]))).toBeNull();
    expect(medianRatio(null, summarize([1]))).toBeNull();
  });
});
