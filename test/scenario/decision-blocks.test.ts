import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { auditScenario } from '../../src/results/fairness-inputs.js';
import { fairnessWarning } from '../../src/results/fairness.js';
import { parseScenario } from '../../src/scenario/load.js';
import { parseRequirement, parseRequirements } from '../../src/scenario/requirement.js';

const FIXTURES = new URL('../fixtures/scenarios/', import.meta.url);
const fixture = (name: string) => parseScenario(readFileSync(new URL(name, FIXTURES), 'utf8'), `test/fixtures/scenarios/${name}`);
const GiB = 2 ** 30;

function errorOf(text: string): BenchError {
  try {
    parseScenario(text, 'scenarios/x.yaml');
  } catch (err) {
    return err as BenchError;
  }
  throw new Error('expected the scenario to be refused');
}

const BASE = (extra: string, platforms = '  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\n  - { name: v, kind: qemu, cpus: 1, memory: 1GiB }') =>
  `name: t\nworkload:\n  model: resnet18\nplatforms:\n${platforms}\nmeasurements:\n  startup: { repetitions: 2 }\n${extra}`;

describe('resources: block', () => {
  it('fills every platform that has no cpus or memory of its own; a platform may override', () => {
    const s = fixture('unequal-cpus.yaml');
    expect(s.platforms.map((p) => [p.name, p.cpus, p.memory])).toEqual([['container', 2, GiB], ['vm', 1, GiB]]);
  });

  it('the fairness audit names the CPU difference, the oversubscribed threads and the override', () => {
    const audit = auditScenario(fixture('unequal-cpus.yaml'), undefined, 2);
    expect(audit.equal).toBe(false);
    expect(audit.differences.filter((d) => d.nature === 'unequal').map((d) => d.resource)).toEqual(['cpus', 'threads']);
    expect(audit.overrides).toEqual([{ platform: 'vm', resource: 'cpus', value: '1 CPU', shared: '2 CPUs' }]);
    expect(fairnessWarning(audit)).toMatch(/^unequal resources — cpus: container 2 CPUs, vm 1 CPU; .*overriding resources: vm cpus 1 CPU \(shared 2 CPUs\)/);
  });

  it('a platform without cpus and no shared value is an error at the platform', () => {
    const err = errorOf(BASE('', '  - { name: c, kind: docker, memory: 1GiB }'));
    expect(err.message).toMatch(/x\.yaml:5:\d+: platforms\[0\]\.cpus: missing required key "cpus" \(give c its own cpus, or set resources\.cpus/);
  });

  it('fractional shared CPUs cannot go to a VM: the error names resources.cpus and the VM', () => {
    const err = errorOf(BASE('resources: { cpus: 1.5, memory: 1GiB }\n', '  - { name: c, kind: docker }\n  - { name: v, kind: qemu }'));
    expect(err.message).toMatch(/x\.yaml:9:20: resources\.cpus: expected a whole number of CPUs: qemu platform v takes resources\.cpus as vCPUs, got 1\.5/);
  });
});

describe('decision: block', () => {
  it('parses requirements and weights', () => {
    const s = fixture('require-own-kernel.yaml');
    expect(s.decision).toEqual({ require: { isolation: 'own-kernel' }, weights: { startup: 1, 'cold-start': 2 } });
    expect(parseRequirements(s.decision!.require)).toEqual({ isolation: 'own-kernel', metrics: [] });
  });

  it('reads the issue\'s examples: a statistic with a limit, a latency at a load', () => {
    expect(parseRequirement('cold_start_p95', '<= 2s')).toMatchObject({ metric: 'cold_start', statistic: 'p95', comparison: '<=', limit: 2000, unit: 'ms' });
    expect(parseRequirement('p99', '<= 100ms at 20 req/s')).toMatchObject({ metric: 'latency_p99', statistic: 'median', params: { rate: 20 }, limit: 100 });
    expect(parseRequirement('memory_host', '<= 1GiB')).toMatchObject({ limit: 1024, unit: 'MiB' });
    expect(parseRequirement('density_max_instances', '>= 10')).toMatchObject({ comparison: '>=', limit: 10, unit: 'count' });
  });

  it('says what is wrong, located', () => {
    const err = errorOf(BASE('decision:\n  require:\n    p99: "<= 100ms"\n    isolation: strong\n    startup: "<= 2GiB"\n  weights:\n    beauty: 2\n'));
    expect(err.message).toContain('x.yaml:11:10: decision.require.p99: latency_p99 is measured per load level: say which');
    expect(err.message).toContain('x.yaml:12:16: decision.require.isolation: expected "own-kernel" or "any"');
    expect(err.message).toContain('decision.require.startup: expected a limit in us, ms, s, m or h');
    expect(err.message).toMatch(/decision\.weights\.beauty: expected a decision driver, one of startup, image-size/);
  });
});

describe('report.reference and capacity:', () => {
  it('a reference must name a platform', () => {
    const err = errorOf(BASE('report: { reference: gvisor }\n'));
    expect(err.message).toMatch(/report\.reference: expected the name of a platform of this scenario \("c", "v"\), got "gvisor"/);
  });

  it('capacity: durations and sizes as everywhere', () => {
    const s = parseScenario(BASE('capacity:\n  target_rate: 200\n  slo_p99: 500ms\n  host: { cores: 32, memory: 128GiB, price_per_hour: 1.5 }\n'), 'x.yaml');
    expect(s.capacity).toEqual({ target_rate: 200, slo_p99: 500, host: { cores: 32, memory: 128 * GiB, price_per_hour: 1.5, currency: 'USD' } });
  });
});
