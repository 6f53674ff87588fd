import { describe, expect, it } from 'vitest';
import { detectChangePoints } from '../../src/gate/change-points.js';
import { buildHistory, historyChartSpec } from '../../src/gate/history.js';
import { renderVegaLiteSvg } from '../../src/report/render-chart.js';
import { normalSample } from '../stats/synthetic.js';
import { samplesOf } from './samples.js';

describe('detectChangePoints', () => {
  it('finds a step in a noisy series at the right place', () => {
    const series = [...normalSample(15, 300, 6, 1), ...normalSample(15, 345, 6, 2)];
    const cps = detectChangePoints(series, { seed: 1 });
    expect(cps).toHaveLength(1);
    expect(cps[0]!.index).toBeGreaterThanOrEqual(14);
    expect(cps[0]!.index).toBeLessThanOrEqual(16);
    expect(cps[0]!.relativeChange).toBeGreaterThan(0.1);
    expect(cps[0]!.p).toBeLessThan(0.01);
  });

  it('finds two steps', () => {
    const series = [...normalSample(12, 100, 2, 3), ...normalSample(12, 120, 2, 4), ...normalSample(12, 100, 2, 5)];
    const cps = detectChangePoints(series, { seed: 2 });
    expect(cps.map((c) => c.index)).toEqual([12, 24]);
  });

  it('finds none in flat noise (50 series: at most a few, the rate is ≤ α = 1 % in expectation)', () => {
    let flagged = 0;
    for (let seed = 1; seed <= 50; seed++) {
      if (detectChangePoints(normalSample(30, 300, 15, seed * 7), { seed, minRelativeChange: 0 }).length > 0) flagged++;
    }
    // Binomial(50, 0.01): P(≥ 3) ≈ 1.4 %.
    expect(flagged).toBeLessThanOrEqual(2);
    expect(detectChangePoints(normalSample(30, 300, 15, 99), { seed: 1 })).toEqual([]);
  });

  it('catches a slow drift in which no night moved more than 2 %', () => {
    // +1 % per night for 25 nights with 1 % noise: each step is below any sensible gate threshold.
    const noise = normalSample(25, 0, 3, 11);
    const series = noise.map((e, i) => 300 * (1 + 0.01 * i) + e);
    const cps = detectChangePoints(series, { seed: 1 });
    expect(cps.length).toBeGreaterThan(0);
    expect(cps[0]!.relativeChange).toBeGreaterThan(0.05);
  });

  it('short series and minimum change', () => {
    expect(detectChangePoints([1, 2, 3])).toEqual([]);
    const small = [...normalSample(15, 300, 0.5, 1), ...normalSample(15, 303, 0.5, 2)]; // 1 %: significant but below 5 %
    expect(detectChangePoints(small, { seed: 1 })).toEqual([]);
    expect(detectChangePoints(small, { seed: 1, minRelativeChange: 0.005 })).toHaveLength(1);
  });
});

describe('buildHistory', () => {
  const runs = Array.from({ length: 12 }, (_, i) => ({
    runId: `run-${String(i).padStart(2, '0')}`,
    startedAt: new Date(Date.UTC(2026, 10, 1 + i)).toISOString(),
    samples: [
      ...samplesOf('cold_start', normalSample(5, i < 6 ? 300 : 360, 3, i + 1)),
      ...samplesOf('throughput@c=1', [i < 6 ? 50 : 40], 'container', 'req/s'),
    ],
  }));

  it('one series per metric × platform, in time order, with change points marked worse in the metric direction', () => {
    const history = buildHistory([...runs].reverse(), { seed: 1 });
    const cold = history.find((s) => s.metric === 'cold_start')!;
    expect(cold.points.map((p) => p.runId)).toEqual(runs.map((r) => r.runId));
    expect(cold.changePoints).toHaveLength(1);
    expect(cold.changePoints[0]!.runId).toBe('run-06');
    expect(cold.changePoints[0]!.worse).toBe(true);
    const tp = history.find((s) => s.metric === 'throughput@c=1')!;
    expect(tp.changePoints[0]!.worse).toBe(true); // throughput fell: worse
  });

  it('renders a Vega-Lite trend chart offline', async () => {
    const history = buildHistory(runs, { seed: 1 });
    const svg = await renderVegaLiteSvg(historyChartSpec('cold_start', history));
    expect(svg).toContain('<svg');
    expect(svg).toContain('cold_start per run');
  });
});
