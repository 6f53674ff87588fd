import { describe, expect, it } from 'vitest';
import { compareOutputs, topK } from '../../src/runner/output-agreement.js';

describe('output agreement', () => {
  const base = Array.from({ length: 20 }, (_, i) => Math.sin(i));

  it('topK orders largest first', () => {
    expect(topK([0.1, 0.9, 0.5, 0.7], 2)).toEqual([1, 3]);
  });

  it('agrees within tolerance', () => {
    const near = base.map((v) => v + 5e-5);
    const r = compareOutputs({ shape: [2, 10], data: base }, { shape: [2, 10], data: near });
    expect(r.agree).toBe(true);
    expect(r.maxAbsDiff).toBeCloseTo(5e-5, 8);
  });

  it('fails on a difference above tolerance even with equal top-5', () => {
    const far = base.map((v, i) => (i === 19 ? v - 1e-3 : v));
    const r = compareOutputs({ shape: [2, 10], data: base }, { shape: [2, 10], data: far });
    expect(r.top5Equal).toBe(true);
    expect(r.agree).toBe(false);
  });

  it('fails when a row ranks classes differently', () => {
    const swapped = [...base];
    [swapped[0], swapped[1]] = [base[1]!, base[0]!];
    const r = compareOutputs({ shape: [2, 10], data: base }, { shape: [2, 10], data: swapped }, 10);
    expect(r.top5Equal).toBe(false);
    expect(r.detail).toContain('row 0');
  });

  it('fails on different shapes and on NaN', () => {
    expect(compareOutputs({ shape: [1, 20], data: base }, { shape: [2, 10], data: base }).agree).toBe(false);
    const nan = base.map((v, i) => (i === 3 ? NaN : v));
    expect(compareOutputs({ shape: [2, 10], data: base }, { shape: [2, 10], data: nan }).agree).toBe(false);
  });
});
