import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDecision } from '../../src/report/decision.js';
import { decideOutcome } from '../../src/report/decision/outcome.js';
import { sensitivityLine } from '../../src/report/decision/outcome-markdown.js';
import { runView } from '../../src/report/run-view.js';
import { readRun } from '../../src/results/read-run.js';
import { parseScenario } from '../../src/scenario/load.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const RESNET = readRun(join(FIXTURES, 'runs', '20261125-201601-cpu-resnet-a564'));
const SPECTRUM = readRun(join(FIXTURES, 'runs', '20261201-120000-isolation-spectrum-synthetic'));
const scenario = (name: string) => parseScenario(readFileSync(join(FIXTURES, 'scenarios', name), 'utf8'), name);
const OWN_KERNEL = scenario('require-own-kernel.yaml').decision!;

describe('decision outcome', () => {
  it('without a decision block: the option best on more drivers, equal weights (cpu-resnet: container, 7 of 7)', () => {
    const o = decideOutcome(runView(RESNET), null);
    expect(o.chosen).toBe('container');
    expect(o.scores).toEqual([
      expect.objectContaining({ option: 'container', score: 7 }),
      expect.objectContaining({ option: 'vm', score: 0 }),
    ]);
    expect(o.flip).toBeNull();
  });

  it('require isolation: own-kernel on container vs VM: the VM, the only option left, and why the container went', () => {
    const o = decideOutcome(runView(RESNET), OWN_KERNEL);
    expect(o.remaining).toEqual(['vm']);
    expect(o.chosen).toBe('vm');
    const out = o.checks.find((c) => c.option === 'container')!;
    expect(out.met).toBe(false);
    expect(out.detail).toMatch(/shares the host kernel \(from the platform kind \(docker: a container shares the host kernel\); not measured\)/);
    expect(sensitivityLine(o)).toMatch(/no weight can change it: vm is the only option that meets every requirement/);
    const md = renderDecision([RESNET], { decision: OWN_KERNEL });
    expect(md).toContain('Chosen option: **vm**, because it is the only option that meets every requirement');
    expect(md).toContain('- ❌ **container** eliminated by `isolation: own-kernel`');
    expect(md).toMatch(/^Sensitivity: /m);
  });

  // Synthetic spectrum, medians (lower is better unless said): startup runc 459, crun 341, gvisor 1070, vm 2770 ms;
  // image 262/262/262/288 MiB (tie); memory overhead 3.95/4.63/33.9/70.7 %; density 15/15/12/9 (higher; tie);
  // cold start 503/362/1200/2890 ms; snapshot 514/401/1230/375 ms; network 0.085/0.084/0.112/0.310 ms.
  it('four options, equal weights: crun 3 (startup, cold start, network), runc 1, vm 1; +2 on memory overhead ties runc level and the tie goes to runc (earlier)', () => {
    const o = decideOutcome(runView(SPECTRUM), null);
    expect(Object.fromEntries(o.scores.map((s) => [s.option, s.score]))).toEqual({ runc: 1, crun: 3, gvisor: 0, vm: 1 });
    expect(o.chosen).toBe('crun');
    expect(o.flip).toMatchObject({ from: 1, to: 3, strict: false, toOption: 'runc' });
    expect(o.flip!.claim.id).toBe('memory-overhead');
  });

  it('own-kernel on the spectrum: runc and crun eliminated by their measured facts; gVisor beats the VM 6 to 1, which only a snapshot weight above 6 would flip', () => {
    const o = decideOutcome(runView(SPECTRUM), OWN_KERNEL);
    expect(o.checks.filter((c) => !c.met).map((c) => c.option)).toEqual(['runc', 'crun']);
    expect(o.checks.find((c) => c.option === 'runc')!.detail).toMatch(/measured: the workload sees the host's kernel/);
    expect(o.remaining).toEqual(['gvisor', 'vm']);
    // The scenario weighs cold-start 2: gvisor wins startup 1, image 1, memory 1, density 1, cold start 2, network 1 = 7; vm snapshot 1.
    expect(Object.fromEntries(o.scores.map((s) => [s.option, s.score]))).toEqual({ gvisor: 7, vm: 1 });
    expect(o.chosen).toBe('gvisor');
    // gap 6; vm comes after gvisor, so it needs strictly more: snapshot above 1 + 6 = 7.
    expect(o.flip).toMatchObject({ from: 1, to: 7, strict: true, toOption: 'vm' });
    expect(sensitivityLine(o)).toBe('Sensitivity: the smallest change of one weight that flips the choice — a weight of snapshot/rollback speed (snapshot) above 7 instead of 1 makes vm the choice.');
  });

  it('a metric requirement eliminates on the measured statistic; an unmeasured one cannot be shown to hold', () => {
    const o = decideOutcome(runView(SPECTRUM), { require: { cold_start_p95: '<= 2s', 'p99': '<= 20ms at 20 req/s', snapshot_take_max: '<= 1s' }, weights: {} });
    const failed = o.checks.filter((c) => !c.met).map((c) => `${c.option}: ${c.requirement}`);
    expect(failed).toContain('vm: cold_start_p95: <= 2s');
    expect(o.checks.find((c) => c.option === 'vm' && c.requirement.startsWith('cold_start'))!.detail).toMatch(/^cold_start p95 = 2\.\d+ s \(n = 5\) fails <= 2\.00 s$/);
    expect(o.remaining).not.toContain('vm');
    const none = decideOutcome(runView(RESNET), { require: { 'p99': '<= 100ms at 20 req/s' }, weights: {} });
    expect(none.remaining).toEqual([]);
    expect(none.checks[0]!.detail).toMatch(/latency_p99 at 20 req\/s was not measured on container, so it cannot be shown to hold/);
  });

  it('weights change the choice: snapshot weighed 10 makes the VM win among the own-kernel options', () => {
    const o = decideOutcome(runView(SPECTRUM), { require: { isolation: 'own-kernel' }, weights: { snapshot: 10 } });
    expect(o.chosen).toBe('vm');
    expect(o.weighted).toBe(true);
  });
});
