import { describe, expect, it } from 'vitest';
import { describeEstimate, planEstimate, refuseLongPlan } from '../../src/cli/plan-length.js';
import { BenchError } from '../../src/errors.js';
import { estimatePlan, LONG_RUN_MS } from '../../src/runner/estimate.js';
import { parseScenarioLocated } from '../../src/scenario/load.js';

const scenario = (measurements: string, platforms = '  - { name: c, kind: docker, cpus: 1, memory: 1GiB }') =>
  parseScenarioLocated(['name: e', 'workload: { model: resnet18 }', 'platforms:', platforms, 'measurements:', measurements].join('\n'), 'e.yaml');

describe('plan estimate', () => {
  it('adds up launches, fixed windows and riders', () => {
    const l = scenario('  startup: { repetitions: 10, warmup: 0 }\n  throughput: { connections: [1, 4], duration: 10s, warmup: 2s }');
    const e = planEstimate(l, '/nonexistent');
    // 10 container launches (1.5 s each with the stop), and riding on the last one the harness's
    // exec round trips (1 s) and 2 throughput levels of 12 s.
    expect(e.byMeasurement.startup).toBe(10 * 1_500);
    expect(e.byMeasurement.throughput).toBe(2 * 12_000);
    expect(e.totalMs).toBe(15_000 + 1_000 + 24_000);
    expect(describeEstimate(e)).toBe('≈ 40s for 13 steps (throughput 24s, startup 15s, calibration 1s)');
  });

  it('a VM costs a minute a boot (TCG), so the same plan is far longer', () => {
    const vm = scenario('  startup: { repetitions: 10, warmup: 0 }', '  - { name: v, kind: qemu, cpus: 1, memory: 1GiB }');
    expect(planEstimate(vm, '/nonexistent').totalMs).toBe(10 * 78_000);
  });

  it('a plan of more than 24 h is refused at its largest part unless allowed', () => {
    const l = scenario('  startup: { repetitions: 100000 }');
    const e = planEstimate(l, '/nonexistent');
    expect(e.totalMs).toBeGreaterThan(LONG_RUN_MS);
    const err = (() => {
      try {
        refuseLongPlan(l, e, false);
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('input');
    expect((err as BenchError).message).toMatch(/^e\.yaml:6:27: measurements\.startup\.repetitions: the run is estimated at \d+h/);
    expect(() => refuseLongPlan(l, e, true)).not.toThrow();
    expect(estimatePlan([], l.scenario).totalMs).toBe(0);
  });
});
