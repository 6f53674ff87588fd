import { describe, expect, it } from 'vitest';
import { compareGroups, describeSamples } from '../../src/stats/describe.js';
import { summarize } from '../../src/stats/summary.js';
import { normalSample } from './synthetic.js';

describe('describeSamples', () => {
  it('is the Summary plus a median CI and flagged outliers', () => {
    const xs = [...normalSample(29, 800, 10, 4), 2100];
    const d = describeSamples(xs, { seed: 42 })!;
    expect(d).toMatchObject(summarize(xs)!);
    expect(d.ci95!.low).toBeLessThanOrEqual(d.median);
    expect(d.ci95!.high).toBeGreaterThanOrEqual(d.median);
    expect(d.outliers.map((o) => o.index)).toContain(29);
    expect(d.n).toBe(30); // flagged, not dropped
    expect(describeSamples(xs, { seed: 42 })).toEqual(d);
  });

  it('handles edge cases', () => {
    expect(describeSamples([], { seed: 1 })).toBeNull();
    expect(describeSamples([5], { seed: 1 })).toMatchObject({ n: 1, median: 5, ci95: null, outliers: [] });
    expect(describeSamples([5, 5, 5], { seed: 1 })).toMatchObject({ ci95: { low: 5, high: 5 }, outliers: [] });
  });
});

describe('compareGroups (other ÷ reference)', () => {
  it('finds a clear VM ÷ container difference', () => {
    const container = normalSample(20, 100, 5, 21);
    const vm = normalSample(20, 300, 15, 22);
    const c = compareGroups(container, vm, { seed: 7 });
    expect(c.ratio).toBeCloseTo(summarize(vm)!.median / summarize(container)!.median, 12);
    expect(c.ratioCI!.low).toBeLessThan(3);
    expect(c.ratioCI!.high).toBeGreaterThan(3);
    expect(c.significant).toBe(true);
    expect(c.mannWhitney).toMatchObject({ method: 'exact', cliffsDelta: 1 }); // positive: other is larger
    expect(compareGroups(container, vm, { seed: 7 })).toEqual(c);
  });

  it('finds no difference between draws of the same distribution', () => {
    const c = compareGroups(normalSample(20, 100, 5, 31), normalSample(20, 100, 5, 32), { seed: 7 });
    expect(c.ratio!).toBeGreaterThan(0.9);
    expect(c.ratio!).toBeLessThan(1.1);
    expect(c.ratioCI!.low).toBeLessThan(1);
    expect(c.ratioCI!.high).toBeGreaterThan(1);
    expect(c.significant).toBe(false);
  });

  it('handles edge cases', () => {
    expect(compareGroups([100, 110], [], { seed: 1 })).toEqual({ ratio: null, ratioCI: null, mannWhitney: null, significant: false });
    const one = compareGroups([100], [300], { seed: 1 });
    expect(one).toMatchObject({ ratio: 3, ratioCI: null, significant: false });
    expect(compareGroups([0, 0, 0], [1, 2, 3], { seed: 1 }).ratio).toBeNull();
  });
});
