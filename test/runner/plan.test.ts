import { describe, expect, it } from 'vitest';
import { MEASUREMENTS } from '../../src/measure/registry.js';
import { buildPlan, type PlannedMeasurement, type PlanStep } from '../../src/runner/plan.js';
import { fixedInput } from '../../src/workload/request-input.js';

/** Planned measurements as the runner derives them (uses/leaves from the registry), every platform taking part. */
function planned(rounds: Partial<Record<string, readonly [number, number]>>, platforms: string[]): PlannedMeasurement[] {
  return MEASUREMENTS.filter((m) => rounds[m.name]).map((m) => ({
    name: m.name, uses: m.uses, leaves: m.leaves, rounds: rounds[m.name]![0], warmup: rounds[m.name]![1], platforms,
  }));
}

const ALL = { image_size: [1, 0], startup: [3, 1], cold_start: [2, 0], calibration: [1, 0], memory: [1, 0], network: [1, 0], throughput: [1, 0], density: [1, 0], snapshot: [1, 0] } as const;
const show = (s: PlanStep) => `${s.measurement}:${s.platform}${s.rep}${s.warmup ? 'w' : ''}`;

describe('buildPlan', () => {
  it('interleaves platforms A B A B, warmups first', () => {
    const steps = buildPlan({ measurements: planned({ startup: [3, 1] }, ['c', 'vm']), order: 'interleaved', seed: 1 });
    expect(steps.map((s) => `${s.platform}${s.rep}${s.warmup ? 'w' : ''}`)).toEqual(['c0w', 'vm0w', 'c1', 'vm1', 'c2', 'vm2']);
  });

  it('random order is reproducible from its seed and keeps every step', () => {
    const input = { measurements: planned({ cold_start: [6, 0] }, ['a', 'b', 'c']), order: 'random' as const, seed: 7 };
    const one = buildPlan(input);
    expect(buildPlan(input)).toEqual(one);
    expect(one).toHaveLength(18);
    expect(buildPlan({ ...input, seed: 8 })).not.toEqual(one);
    for (let rep = 0; rep < 6; rep++) {
      expect(one.filter((s) => s.rep === rep).map((s) => s.platform).sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('random order permutes memory, network, throughput, density and snapshot steps too; the same seed, the same order', () => {
    const platforms = ['a', 'b', 'c'];
    const orderOf = (steps: PlanStep[], m: string) => steps.filter((s) => s.measurement === m).map((s) => s.platform).join('');
    const seen: Record<string, Set<string>> = { memory: new Set(), network: new Set(), throughput: new Set(), density: new Set(), snapshot: new Set() };
    for (let seed = 1; seed <= 30; seed++) {
      const input = { measurements: planned(ALL, platforms), order: 'random' as const, seed };
      const steps = buildPlan(input);
      expect(buildPlan(input).map(show)).toEqual(steps.map(show));
      for (const m of Object.keys(seen)) seen[m]!.add(orderOf(steps, m));
    }
    for (const [m, orders] of Object.entries(seen)) expect(orders.size, `${m} orders over 30 seeds`).toBeGreaterThan(1);
    // Interleaved keeps the scenario's platform order for them.
    const fixed = buildPlan({ measurements: planned(ALL, platforms), order: 'interleaved', seed: 1 });
    for (const m of Object.keys(seen)) expect(orderOf(fixed, m)).toBe('abc');
  });

  it('no launch without a measurement: ready-instance steps ride on the last startup, the snapshot on the last cold start', () => {
    const steps = buildPlan({ measurements: planned(ALL, ['c', 'vm']), order: 'interleaved', seed: 1 });
    const at = (i: number | undefined) => (i === undefined ? '-' : show(steps[i]!));
    const rides = steps.filter((s) => s.rides !== undefined).map((s) => `${show(s)} on ${at(s.rides)}`);
    expect(rides).toEqual([
      'calibration:c0 on startup:c2', 'memory:c0 on startup:c2', 'network:c0 on startup:c2', 'throughput:c0 on startup:c2',
      'calibration:vm0 on startup:vm2', 'memory:vm0 on startup:vm2', 'network:vm0 on startup:vm2', 'throughput:vm0 on startup:vm2',
      'snapshot:c0 on cold_start:c1', 'snapshot:vm0 on cold_start:vm1',
    ]);
    // Each rider runs right after its host (or after the riders before it), before the host's instance is stopped.
    for (const s of steps.filter((x) => x.rides !== undefined)) {
      expect(steps.slice(s.rides! + 1, s.index).every((x) => x.rides === s.rides)).toBe(true);
    }
    // The identity proof rides on each platform's first cold start.
    expect(steps.filter((s) => s.identity).map(show)).toEqual(['cold_start:c0', 'cold_start:vm0']);
  });

  it('with nothing to ride on, the first ready-instance step launches and the others share it', () => {
    const steps = buildPlan({ measurements: planned({ memory: [1, 0], network: [1, 0], throughput: [1, 0] }, ['a']), order: 'interleaved', seed: 1 });
    expect(steps.map((s) => `${show(s)}${s.rides === undefined ? '' : ` on ${s.rides}`}${s.identity ? ' +identity' : ''}`)).toEqual([
      'memory:a0 +identity', 'network:a0 on 0', 'throughput:a0 on 0',
    ]);
    const snapshotOnly = buildPlan({ measurements: planned({ snapshot: [1, 0], density: [1, 0] }, ['a']), order: 'interleaved', seed: 1 });
    expect(snapshotOnly.every((s) => s.rides === undefined)).toBe(true);
    expect(snapshotOnly.filter((s) => s.identity).map(show)).toEqual(['density:a0']);
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
