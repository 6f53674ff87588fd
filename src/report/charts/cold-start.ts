import type { StoredRun } from '../../results/read-run.js';
import { fmt, round } from '../format.js';
import { samplesOf, summaryOf, type Series } from '../series.js';
import { frame, rowAxis, seriesColor, type Chart } from './spec.js';

/**
 * Cold start (launch → first successful inference): every sample as a dot,
 * a min–max box behind them, and the median with its bootstrap 95 % CI in
 * black. Log-scaled: a container and a VM differ by orders of magnitude.
 */
export function coldStartChart(runs: readonly StoredRun[], series: readonly Series[], metric = 'cold_start'): Chart | null {
  // Each series' samples, filtered out of the run once (every row label and dot needs them).
  const samples = new Map(series.map((s) => [s, samplesOf(runs, s, metric)] as const));
  const present = series.filter((s) => samples.get(s)!.length > 0);
  if (present.length === 0) return null;
  const rowOf = (s: Series) => `${s.label} (n = ${samples.get(s)!.length})`;
  const points = present.flatMap((s) =>
    samples.get(s)!.map((x, i, all) => ({
      series: s.label,
      row: rowOf(s),
      rep: x.rep,
      value_ms: round(x.value),
      // Deterministic spread of the dots within a row, so equal values stay visible.
      jitter: all.length > 1 ? round(-0.6 + (1.2 * i) / (all.length - 1)) : 0,
    })),
  );
  const cis = present.flatMap((s) => {
    const sum = summaryOf(runs, s, metric)?.summary;
    if (!sum) return [];
    const ci = sum.ci95 ? `95 % CI ${fmt(sum.ci95.low, 'ms')} – ${fmt(sum.ci95.high, 'ms')}` : 'no CI (n < 2)';
    return [{
      series: s.label, row: rowOf(s), median_ms: round(sum.median), ci_low_ms: round(sum.ci95?.low ?? sum.median), ci_high_ms: round(sum.ci95?.high ?? sum.median), n: sum.n,
      label: `median ${fmt(sum.median, 'ms')} (${ci})`,
    }];
  });
  const title = metric === 'cold_start' ? 'Cold start: launch → first successful inference' : 'Startup: launch → ready';
  const rows = present.map(rowOf);
  const y = rowAxis(rows);
  const x = { field: 'value_ms', type: 'quantitative', title: `${metric.replace('_', ' ')} (ms, log scale)`, scale: { type: 'log' } };
  return {
    id: metric === 'cold_start' ? 'cold-start' : 'startup',
    title,
    caption:
      'Every measured sample is a dot (warm-ups excluded); the box spans the quartiles with whiskers to min–max; the black bar is the 95 % bootstrap CI of the median and the black tick the median. The axis is logarithmic.',
    spec: {
      ...frame(title, [
        'dots: every sample · box: quartiles, whiskers min–max · black: median and its 95 % bootstrap CI',
        'fresh instance per sample; the host page cache is not dropped',
      ]),
      width: 620,
      height: { step: 70 },
      layer: [
        {
          data: { values: points },
          mark: { type: 'boxplot', extent: 'min-max', opacity: 0.25, size: 34, median: { color: 'transparent' }, ticks: false },
          encoding: { x: { ...x, title: `${metric.replace('_', ' ')} (ms, log scale)` }, y, color: { ...seriesColor(present), legend: null } },
        },
        {
          data: { values: points },
          mark: { type: 'point', filled: true, size: 70, opacity: 0.85, stroke: 'white', strokeWidth: 0.5 },
          encoding: {
            x,
            y,
            yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1.5, 1.5] }, title: null },
            color: seriesColor(present),
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'rep', title: 'repetition' },
              { field: 'value_ms', title: 'ms', format: '.1f' },
            ],
          },
        },
        {
          data: { values: cis },
          mark: { type: 'rule', strokeWidth: 3, color: 'black', yOffset: 22 },
          encoding: { x: { field: 'ci_low_ms', type: 'quantitative' }, x2: { field: 'ci_high_ms' }, y },
        },
        {
          data: { values: cis },
          mark: { type: 'text', align: 'left', dx: 8, yOffset: 22, fontSize: 11 },
          encoding: { x: { field: 'ci_high_ms', type: 'quantitative' }, y, text: { field: 'label' } },
        },
        {
          data: { values: cis },
          mark: { type: 'tick', color: 'black', thickness: 2, size: 14, yOffset: 22 },
          encoding: {
            x: { field: 'median_ms', type: 'quantitative' },
            y,
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'median_ms', title: 'median (ms)', format: '.1f' },
              { field: 'ci_low_ms', title: 'CI low (ms)', format: '.1f' },
              { field: 'ci_high_ms', title: 'CI high (ms)', format: '.1f' },
              { field: 'n', title: 'n' },
            ],
          },
        },
      ],
    },
  };
}
