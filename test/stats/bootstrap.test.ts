import { median } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { bootstrapMedianCI, bootstrapRatioCI } from '../../src/stats/bootstrap.js';
import { normalSample } from './synthetic.js';

describe('bootstrapMedianCI', () => {
  const xs = normalSample(40, 100, 10, 7);

  it('brackets the sample median and reports its settings', () => {
    const ci = bootstrapMedianCI(xs)!;
    const m = median(xs);
    expect(ci.low).toBeLessThanOrEqual(m);
    expect(ci.high).toBeGreaterThanOrEqual(m);
    expect(ci.low).toBeLessThan(ci.high);
    expect(ci).toMatchObject({ iterations: 10_000, confidence: 0.95, seed: 1 });
  });

  it('is reproducible from the seed and changes with another seed', () => {
    const a = bootstrapMedianCI(xs, { seed: 123 });
    const b = bootstrapMedianCI(xs, { seed: 123 });
    expect(a).toEqual(b);
    // Resampled medians take few distinct values (order statistics), so two seeds
    // can land on the same bounds; across a handful of seeds they must not all agree.
    const bounds = new Set(
      [1, 2, 3, 4, 5].map((seed) => {
        const ci = bootstrapMedianCI(xs, { seed, iterations: 500 })!;
        return `${ci.low}..${ci.high}`;
      }),
    );
    expect(bounds.size).toBeGreaterThan(1);
  });

  it('narrows as n grows', () => {
    const width = (n: number) => {
      const ci = bootstrapMedianCI(normalSample(n, 100, 10, 99), { seed: 5 })!;
      return ci.high - ci.low;
    };
    const w10 = width(10);
    const w100 = width(100);
    const w1000 = width(1000);
    expect(w100).toBeLessThan(w10);
    expect(w1000).toBeLessThan(w100);
    // Roughly 1/√n: ten times the data, about a third of the width.
    expect(w1000 / w100).toBeGreaterThan(0.15);
    expect(w1000 / w100).toBeLessThan(0.6);
  });

  it('is wider at higher confidence', () => {
    const narrow = bootstrapMedianCI(xs, { confidence: 0.5 })!;
    const wide = bootstrapMedianCI(xs, { confidence: 0.99 })!;
    expect(wide.low).toBeLessThan(narrow.low);
    expect(wide.high).toBeGreaterThan(narrow.high);
  });

  it('averages the two middle values for even n', () => {
    // Resamples of [1, 2]: median 1 (¼), 1.5 (½), 2 (¼).
    expect(bootstrapMedianCI([1, 2])).toMatchObject({ low: 1, high: 2 });
    expect(bootstrapMedianCI([1, 2], { confidence: 0.4 })).toMatchObject({ low: 1.5, high: 1.5 });
  });

  it('handles edge cases', () => {
    expect(bootstrapMedianCI([])).toBeNull();
    expect(bootstrapMedianCI([42])).toBeNull();
    expect(bootstrapMedianCI([7, 7, 7, 7])).toMatchObject({ low: 7, high: 7 });
    expect(() => bootstrapMedianCI([1, Number.NaN])).toThrow(RangeError);
    expect(() => bootstrapMedianCI(xs, { iterations: 0 })).toThrow(RangeError);
    expect(() => bootstrapMedianCI(xs, { confidence: 1 })).toThrow(RangeError);
  });

  it('does not reorder its input', () => {
    const ys = [3, 1, 2, 5, 4];
    bootstrapMedianCI(ys);
    expect(ys).toEqual([3, 1, 2, 5, 4]);
  });

  it('runs 10 000 iterations on n = 50 well under 100 ms', () => {
    const ys = normalSample(50, 100, 10, 3);
    bootstrapMedianCI(ys); // warm up the JIT
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      bootstrapMedianCI(ys, { seed: i + 2 });
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(100);
  });
});

describe('bootstrapRatioCI', () => {
  it('contains the true ratio for well-separated data', () => {
    const container = normalSample(30, 100, 5, 11);
    const vm = normalSample(30, 300, 15, 12);
    const r = bootstrapRatioCI(vm, container, { seed: 3 })!;
    expect(r.ratio).toBeCloseTo(median(vm) / median(container), 12);
    expect(r.low).toBeLessThan(3);
    expect(r.high).toBeGreaterThan(3);
    expect(r.low).toBeGreaterThan(2.5);
    expect(r.high).toBeLessThan(3.5);
    expect(r.low).toBeLessThanOrEqual(r.ratio);
    expect(r.high).toBeGreaterThanOrEqual(r.ratio);
  });

  it('is reproducible from the seed', () => {
    const a = normalSample(20, 50, 5, 1);
    const b = normalSample(20, 10, 1, 2);
    expect(bootstrapRatioCI(a, b, { seed: 9 })).toEqual(bootstrapRatioCI(a, b, { seed: 9 }));
    expect(bootstrapRatioCI(a, b, { seed: 9 })!.low).not.toBe(bootstrapRatioCI(a, b, { seed: 10 })!.low);
  });

  it('is null when undefined', () => {
    expect(bootstrapRatioCI([1], [1, 2])).toBeNull();
    expect(bootstrapRatioCI([1, 2], [])).toBeNull();
    expect(bootstrapRatioCI([1, 2], [0, 0, 1])).toBeNull(); // denominator median 0
    expect(bootstrapRatioCI([1, 2], [0, 1, 2])).toBeNull(); // some resampled denominator medians are 0
    expect(bootstrapRatioCI([4, 4], [2, 2])).toMatchObject({ ratio: 2, low: 2, high: 2 });
  });
});
