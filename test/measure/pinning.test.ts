import { describe, expect, it } from 'vitest';
import { cpuList, planPinning } from '../../src/measure/pinning.js';

describe('planPinning', () => {
  it('gives the instance the first CPUs and the load generator the rest', () => {
    expect(planPinning(2, 1)).toEqual({ instance: '0', loadgen: '1' });
    expect(planPinning(8, 2)).toEqual({ instance: '0-1', loadgen: '2-7' });
    expect(planPinning(4, 1.5)).toEqual({ instance: '0-1', loadgen: '2-3' });
  });

  it('pins nothing when no CPU would be left for the generator', () => {
    expect(planPinning(2, 2)).toBeNull();
    expect(planPinning(1, 1)).toBeNull();
  });

  it('writes taskset lists', () => {
    expect(cpuList(3, 3)).toBe('3');
    expect(cpuList(0, 3)).toBe('0-3');
  });
});
