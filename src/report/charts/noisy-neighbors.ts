import type { StoredRun } from '../../results/read-run.js';
import { round } from '../format.js';
import type { Series } from '../series.js';
import { frame, seriesColor, type Chart } from './spec.js';

/** The victim's figures the chart draws, and what each panel calls them. */
const PANELS = [
  { metric: 'neighbor_p99', what: 'p99', title: 'victim p99 latency (ms)' },
  { metric: 'neighbor_throughput', what: 'throughput', title: 'victim throughput (req/s)' },
] as const;

/**
 * Noisy neighbours: the victim's p99 latency (top) and throughput (bottom)
 * against the number K of neighbours of the same substrate saturating their
 * CPU beside it, one line per substrate: the median over the windows at
 * each K, with the 95 % bootstrap CI of that median as an error bar.
 */
export function noisyNeighborsChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const points: Array<Record<string, string | number>> = [];
  const present: Series[] = [];
  for (const s of series) {
    const run = runs[s.runIndex]!;
    const mine = run.record.summaries.filter((x) => x.platform === s.platform && PANELS.some((p) => p.metric === x.base) && typeof x.params?.neighbors === 'number' && x.summary);
    if (mine.length === 0) continue;
    present.push(s);
    for (const x of mine) {
      const sum = x.summary!;
      points.push({
        series: s.label,
        what: PANELS.find((p) => p.metric === x.base)!.what,
        neighbors: Number(x.params!.neighbors),
        median: round(sum.median),
        low: round(sum.ci95?.low ?? sum.median),
        high: round(sum.ci95?.high ?? sum.median),
        n: sum.n,
      });
    }
  }
  if (points.length === 0) return null;
  points.sort((a, b) => String(a.series).localeCompare(String(b.series), 'en') || String(a.what).localeCompare(String(b.what), 'en') || Number(a.neighbors) - Number(b.neighbors));
  const title = 'Noisy neighbours: the victim beside K saturating neighbours';
  const x = { field: 'neighbors', type: 'quantitative', title: 'neighbours K (same substrate, CPU saturated)', axis: { tickMinStep: 1, format: 'd' } };
  const panel = (p: (typeof PANELS)[number]) => {
    const values = points.filter((v) => v.what === p.what);
    const y = { field: 'median', type: 'quantitative', title: p.title, scale: { zero: p.what === 'throughput' } };
    return {
      width: 560,
      height: 200,
      data: { values },
      layer: [
        { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { field: 'low', type: 'quantitative', title: p.title }, y2: { field: 'high' }, color: seriesColor(present) } },
        {
          mark: { type: 'line', point: { filled: true, size: 60 } },
          encoding: {
            x,
            y,
            color: seriesColor(present),
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'neighbors', title: 'K' },
              { field: 'median', title: p.title, format: '.2f' },
              { field: 'low', title: 'CI low', format: '.2f' },
              { field: 'high', title: 'CI high', format: '.2f' },
              { field: 'n', title: 'windows' },
            ],
          },
        },
      ],
    };
  };
  const ns = [...new Set(points.map((p) => Number(p.n)))].sort((a, b) => a - b);
  return {
    id: 'noisy-neighbors',
    title,
    caption:
      'A victim instance at a fixed open-loop rate, alone (K = 0) and with K neighbours of the same substrate saturating their CPU quota. Top: its p99 latency; bottom: its successful requests per second. Points: the median over the measured windows; bars: the 95 % bootstrap CI of that median. The inflation and loss against K = 0, with CIs, are in the isolation table.',
    spec: {
      ...frame(title, [`median over n = ${ns.join(' / ')} window(s) per point; bars: 95 % bootstrap CI of the median`]),
      vconcat: PANELS.map(panel),
      resolve: { scale: { color: 'shared' } },
    },
  };
}
