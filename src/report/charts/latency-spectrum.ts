import type { StoredRun } from '../../results/read-run.js';
import { LatencyHistogram } from '../../loadgen/histogram.js';
import { round } from '../format.js';
import { metricLabel } from '../../results/sample.js';
import { samplesOf, type Series } from '../series.js';
import { frame, seriesColor, type Chart } from './spec.js';
import { levelsOf } from './throughput-latency.js';

/** Percentiles drawn (HdrHistogram-plot style); those beyond what the request count can resolve are left out. */
export const SPECTRUM_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999];

/**
 * Latency percentile spectrum from the stored HDR histograms of every load
 * level: x = 1 / (1 − percentile) on a log axis (labelled as percentiles),
 * y = latency. Percentile p is drawn only when at least 1 / (1 − p) requests
 * were recorded, plus the maximum at the request count.
 */
export function latencySpectrumChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const points: Array<Record<string, string | number>> = [];
  const present: Series[] = [];
  const curves: string[] = [];
  for (const s of series) {
    const run = runs[s.runIndex]!;
    let any = false;
    for (const lv of levelsOf(run)) {
      const label = metricLabel('throughput', lv.params);
      const x = samplesOf(runs, s, label)[0];
      const enc = x?.metadata.histogram;
      if (typeof enc !== 'string') continue;
      const h = LatencyHistogram.decode(enc, `${label} histogram`);
      if (h.count === 0) continue;
      any = true;
      const curve = `${s.label} @ ${lv.level}`;
      curves.push(curve);
      for (const p of SPECTRUM_PERCENTILES) {
        const inv = 1 / (1 - p / 100);
        if (inv > h.count) break;
        points.push({ series: s.label, curve, level: lv.level, percentile: p, inv: round(inv), latency_ms: round(h.percentileMs(p)), count: h.count });
      }
      points.push({ series: s.label, curve, level: lv.level, percentile: 100, inv: h.count, latency_ms: round(h.percentileMs(100)), count: h.count });
    }
    if (any) present.push(s);
  }
  if (points.length === 0) return null;
  const maxInv = Math.max(...points.map((p) => Number(p.inv)));
  const ticks = [1, 2, 10, 100, 1000, 10000, 100000].filter((t) => t <= Math.max(10, maxInv * 1.5));
  const title = 'Latency percentile spectrum (from the HDR histograms)';
  return {
    id: 'latency-spectrum',
    title,
    caption:
      'The whole latency distribution of each load level: x is the percentile on a log scale of 1/(1 − p), so the tail (p99, p99.9) is spread out; y is latency. The last point of each curve is the maximum; no percentile finer than the request count allows is drawn.',
    spec: {
      ...frame(title, [
        'x: percentile, log-scaled as 1/(1 − p); last point of each curve = max (at x = request count)',
        `curves: ${curves.join(', ')}; n = requests recorded per curve (tooltip)`,
      ]),
      width: 560,
      height: 300,
      data: { values: points },
      mark: { type: 'line', point: { filled: true, size: 36 } },
      encoding: {
        x: {
          field: 'inv',
          type: 'quantitative',
          title: 'percentile (log scale of 1/(1 − p))',
          scale: { type: 'log', domainMin: 1 },
          axis: { values: ticks, labelExpr: "datum.value <= 1 ? '0 %' : format(100 - 100 / datum.value, '.3~f') + ' %'" },
        },
        y: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms)' },
        color: seriesColor(present),
        strokeDash: { field: 'level', type: 'nominal', title: 'load level' },
        detail: { field: 'curve' },
        order: { field: 'inv', type: 'quantitative' },
        tooltip: [
          { field: 'curve', title: 'curve' },
          { field: 'percentile', title: 'percentile' },
          { field: 'latency_ms', title: 'latency (ms)', format: '.2f' },
          { field: 'count', title: 'requests recorded' },
        ],
      },
    },
  };
}
