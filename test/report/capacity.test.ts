import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capacityInputs, capacitySamples, memoryLine } from '../../src/report/capacity/inputs.js';
import { projectCapacity } from '../../src/report/capacity/model.js';
import { projectRun } from '../../src/report/capacity/projection.js';
import { runView } from '../../src/report/run-view.js';
import { readRun } from '../../src/results/read-run.js';

const RESNET = readRun(join(import.meta.dirname, '..', 'fixtures', 'runs', '20261125-201601-cpu-resnet-a564'));

describe('capacity arithmetic (hand-computed)', () => {
  it('CPU-bound: 32 cores ÷ 2 CPUs = 16 instances × 25 req/s = 400 req/s; 1000 req/s → 3 hosts, 0.8333 host-hours and 1.25 per 10⁶', () => {
    const f = projectCapacity(
      { cpusPerInstance: 2, memoryLine: { intercept: 50, slope: 333 }, densityLimit: null, throughputPerInstance: 25 },
      { cores: 32, memoryMiB: 131072, pricePerHour: 1.5 },
      1000,
    );
    if (typeof f === 'string') throw new Error(f);
    expect(f.bounds).toEqual({ memory: 393, cpu: 16 }); // ⌊(131072 − 50) ÷ 333⌋ = ⌊393.46⌋
    expect(f).toMatchObject({ instancesPerHost: 16, binding: 'cpu', throughputPerHost: 400, hostsNeeded: 3, costPerHour: 4.5 });
    expect(f.hostHoursPerMillion).toBeCloseTo(3e6 / (1000 * 3600), 12); // 0.8333…
    expect(f.costPerMillion).toBeCloseTo(1.25, 12);
  });

  it('memory-bound, with the density limit scaled by cores; no target: per-host figures at capacity, no price: no cost', () => {
    const f = projectCapacity(
      { cpusPerInstance: 0.5, memoryLine: { intercept: 0, slope: 500 }, densityLimit: { instances: 3, hostCores: 2 }, throughputPerInstance: 10 },
      { cores: 16, memoryMiB: 8192, pricePerHour: null },
      null,
    );
    if (typeof f === 'string') throw new Error(f);
    expect(f.bounds).toEqual({ memory: 16, cpu: 32, density: 24 }); // 8192 ÷ 500 = 16.4; 16 ÷ 0.5; 3 × 16 ÷ 2
    expect(f).toMatchObject({ instancesPerHost: 16, binding: 'memory', throughputPerHost: 160, hostsNeeded: null, costPerMillion: null, costPerHour: null });
    expect(f.hostHoursPerMillion).toBeCloseTo(1e6 / (160 * 3600), 12); // 1.736…
  });

  it('says what was not measured instead of projecting', () => {
    const base = { cpusPerInstance: 1, memoryLine: { intercept: 0, slope: 300 }, densityLimit: null, throughputPerInstance: 20 };
    const host = { cores: 8, memoryMiB: 4096, pricePerHour: null };
    expect(projectCapacity({ ...base, throughputPerInstance: null }, host, null)).toMatch(/throughput at the SLO not measured/);
    expect(projectCapacity({ ...base, throughputPerInstance: 0 }, host, null)).toMatch(/no request met the p99 SLO/);
    expect(projectCapacity({ ...base, memoryLine: null }, host, null)).toMatch(/memory per instance not measured/);
    expect(projectCapacity({ ...base, densityLimit: { instances: 0, hostCores: 2 } }, host, null)).toMatch(/the density search kept no instance within the p99 SLO/);
    expect(projectCapacity({ ...base, cpusPerInstance: 16 }, host, null)).toMatch(/not one instance fits .*cpu bound: 0/);
  });

  it('the density line: least squares through (instances, memory)', () => {
    expect(memoryLine([{ instances: 1, memory: 400 }, { instances: 2, memory: 700 }, { instances: 3, memory: 1000 }])).toEqual({ intercept: 100, slope: 300 });
    expect(memoryLine([{ instances: 1, memory: 400 }])).toBeNull();
  });
});

describe('capacity inputs from the cpu-resnet run', () => {
  it('throughput at the SLO: the best level whose p99 met it (c=1: 25 req/s, p99 56 ms; c=4: 23.6 req/s, p99 200 ms)', () => {
    const s = capacitySamples(RESNET, 'container', 500);
    expect(capacityInputs(s, 500).throughputPerInstance).toBe(25);
    expect(capacityInputs(s, 100).throughputPerInstance).toBe(25);
    expect(capacityInputs(s, 50).throughputPerInstance).toBe(0); // neither level's p99 is within 50 ms
    expect(s.density).toHaveLength(8);
    expect(s.cpusPerInstance).toBe(2);
  });

  it('projects the container on the measuring host (2 cores: one 2-CPU instance, 25 req/s, 11.1 host-hours per 10⁶) with bootstrap intervals, and says the VM is not projectable', () => {
    const pr = projectRun(runView(RESNET));
    expect(pr.settings).toMatchObject({ sloMs: 500, sloSource: "the scenario's density.slo_p99", targetRate: null, hostSource: 'the measuring host' });
    const c = pr.rows.find((r) => r.platform === 'container')!;
    expect(c.figures).toMatchObject({ instancesPerHost: 1, binding: 'cpu', throughputPerHost: 25 });
    expect(c.figures!.hostHoursPerMillion).toBeCloseTo(1e6 / (25 * 3600), 9);
    // The memory per instance comes from the 8 density steps; resampling them gives a real interval.
    const mem = c.intervals.memoryPerInstance!;
    expect(mem.low).toBeLessThan(c.inputs.memoryLine!.slope);
    expect(mem.high).toBeGreaterThan(c.inputs.memoryLine!.slope);
    const vm = pr.rows.find((r) => r.platform === 'vm')!;
    expect(vm.figures).toBeNull();
    expect(vm.notProjectable).toMatch(/no request met the p99 SLO/);
  });

  it('a target and a host profile from the report options: hosts and cost', () => {
    const pr = projectRun(runView(RESNET), { capacity: { target_rate: 1000, host: { cores: 64, memory: 256 * 2 ** 30, price_per_hour: 2, currency: 'EUR' } } });
    const c = pr.rows.find((r) => r.platform === 'container')!.figures!;
    // 64 cores ÷ 2 = 32 instances (memory allows ~780) × 25 = 800 req/s → 2 hosts; 2 × 10⁶ ÷ (1000 × 3600) host-hours × 2 EUR.
    expect(c).toMatchObject({ instancesPerHost: 32, throughputPerHost: 800, hostsNeeded: 2, costPerHour: 4 });
    expect(c.costPerMillion).toBeCloseTo((2 * 1e6 * 2) / (1000 * 3600), 9);
  });
});

describe('capacity in the cpu-resnet report', () => {
  it('decision.md and report.html carry the projection table, labelled, with the VM not projectable; a chart is drawn', async () => {
    const { renderDecision } = await import('../../src/report/decision.js');
    const { buildCharts } = await import('../../src/report/charts/index.js');
    const { seriesOf } = await import('../../src/report/series.js');
    const md = renderDecision([RESNET]);
    expect(md).toContain("## Capacity and cost (projection from one host's measurements)");
    expect(md).toMatch(/\| container \| 25 req\/s .* \| 333\.3 MiB \(\d+(\.\d+)? MiB – \d+(\.\d+)? MiB\) \| 1 .*cpu-bound/);
    expect(md).toMatch(/\| vm \| none within the SLO \| .* \| not projectable: no request met the p99 SLO/);
    const chart = buildCharts([RESNET], seriesOf([RESNET])).find((c) => c.id === 'capacity')!;
    expect(JSON.stringify(chart.spec)).toContain("projection from one host's measurements");
  });
});
