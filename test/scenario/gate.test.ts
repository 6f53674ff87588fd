import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';

const FILE = 'scenarios/g.yaml';
const BASE = [
  'name: g', //                                   1
  'workload:', //                                 2
  '  model: resnet18', //                         3
  'platforms:', //                                4
  '  - { name: c, kind: docker, cpus: 1, memory: 1GiB }', // 5
  'measurements:', //                             6
  '  cold_start: { repetitions: 3 }', //          7
].join('\n');

function withGate(gate: string): string {
  return `${BASE}\n${gate}\n`;
}

function errorOf(text: string): BenchError {
  try {
    parseScenario(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    return err as BenchError;
  }
  throw new Error('expected parseScenario to throw');
}

describe('scenario gate block', () => {
  it('is optional', () => {
    expect(parseScenario(`${BASE}\n`, FILE).gate).toBeUndefined();
  });

  it('parses alpha, correction and thresholds (percentages → fractions, ".median" dropped)', () => {
    const s = parseScenario(
      withGate(['gate:', '  alpha: 0.01', '  correction: none', '  thresholds:', '    startup.median: 10%', '    "throughput@*": 12.5%', '    phase_*: 20%'].join('\n')),
      FILE,
    );
    expect(s.gate).toEqual({ alpha: 0.01, correction: 'none', thresholds: { startup: 0.1, 'throughput@*': 0.125, 'phase_*': 0.2 } });
  });

  it('defaults: alpha 0.05, Holm, no thresholds', () => {
    expect(parseScenario(withGate('gate: {}'), FILE).gate).toEqual({ alpha: 0.05, correction: 'holm', thresholds: {} });
  });

  it('an unknown metric key is located and explained', () => {
    const err = errorOf(withGate(['gate:', '  thresholds:', '    boot_time.median: 10%'].join('\n')));
    expect(err.message).toContain(`${FILE}:10:`);
    expect(err.message).toContain('gate.thresholds.boot_time.median');
    expect(err.message).toMatch(/expected a vmbench metric name/);
  });

  it('an unknown statistic is explained', () => {
    const err = errorOf(withGate(['gate:', '  thresholds:', '    startup.p42: 10%'].join('\n')));
    expect(err.message).toMatch(/statistic after "\." to be "median"/);
  });

  it('a value that is not a percentage is located', () => {
    const err = errorOf(withGate(['gate:', '  thresholds:', '    startup.median: 0.1'].join('\n')));
    expect(err.message).toContain(`${FILE}:10:`);
    expect(err.message).toMatch(/expected a percentage such as "10%", got 0.1/);
    const err2 = errorOf(withGate(['gate:', '  thresholds:', '    startup.median: ten%'].join('\n')));
    expect(err2.message).toMatch(/expected a percentage such as "10%"/);
  });

  it('alpha outside (0, 1) and unknown keys are errors', () => {
    expect(errorOf(withGate(['gate:', '  alpha: 1.5'].join('\n'))).message).toContain('gate.alpha');
    const err = errorOf(withGate(['gate:', '  alfa: 0.1'].join('\n')));
    expect(err.message).toContain('gate.alfa');
  });
});
