import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/runner/plan.js';
import { fixedInput } from '../../src/runner/input.js';

describe('buildPlan', () => {
  it('interleaves platforms A B A B, warmups first', () => {
    const steps = buildPlan({
      platforms: ['c', 'vm'],
      metrics: [{ metric: 'startup', repetitions: 2, warmup: 1 }],
      order: 'interleaved',
      seed: 1,
    });
    expect(steps.map((s) => `${s.platform}${s.rep}${s.warmup ? 'w' : ''}`)).toEqual(['c0w', 'vm0w', 'c1', 'vm1', 'c2', 'vm2']);
  });

  it('random order is reproducible from its seed and keeps every step', () => {
    const input = {
      platforms: ['a', 'b', 'c'],
      metrics: [{ metric: 'cold_start' as const, repetitions: 6, warmup: 0 }],
      order: 'random' as const,
      seed: 7,
    };
    const one = buildPlan(input);
    expect(buildPlan(input)).toEqual(one);
    expect(one).toHaveLength(18);
    expect(buildPlan({ ...input, seed: 8 })).not.toEqual(one);
    for (let rep = 0; rep < 6; rep++) {
      expect(one.filter((s) => s.rep === rep).map((s) => s.platform).sort()).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('fixedInput', () => {
  it('is the same bytes for the same seed, in [0,1)', () => {
    const a = fixedInput(1000, 3);
    expect(a.equals(fixedInput(1000, 3))).toBe(true);
    expect(a.equals(fixedInput(1000, 4))).toBe(false);
    const f = new Float32Array(a.buffer, a.byteOffset, 1000);
    expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...f)).toBeLessThan(1);
  });
});
