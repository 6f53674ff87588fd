import type { StoredRun } from '../../results/read-run.js';
import { round } from '../format.js';
import { samplesOf, type Series } from '../series.js';
import { frame, seriesColor, type Chart } from './spec.js';

/** The per-point density metrics and what the chart calls them. */
const POINT_METRICS: Record<string, string> = { density_memory: 'memory', density_p99: 'p99' };

/** The tooltip's "within limits": unknown when the sample did not record it (never assumed yes). */
function withinLimits(v: unknown): string {
  return v === true ? 'yes' : v === false ? 'no' : 'unknown';
}

/**
 * Density curve: instances running at once vs the host memory they use and
 * the merged probe p99, per substrate, with the memory budget and the p99 SLO
 * as dashed rules. The subtitle says how many instances each reached and why
 * it stopped.
 */
export function densityChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const points: Array<Record<string, string | number>> = [];
  const stops: string[] = [];
  let budget: number | null = null;
  let slo: number | null = null;
  const present: Series[] = [];
  for (const s of series) {
    const run = runs[s.runIndex]!;
    const mine = run.samples.filter((x) => !x.warmup && x.platform === s.platform && x.metric in POINT_METRICS && typeof x.params?.instances === 'number');
    const max = samplesOf(runs, s, 'density_max_instances')[0];
    if (mine.length === 0 && !max) continue;
    present.push(s);
    for (const x of mine) {
      points.push({ series: s.label, instances: Number(x.params!.instances), what: POINT_METRICS[x.metric]!, value: round(x.value), within: withinLimits(x.metadata.within_limits) });
      if (typeof x.metadata.memory_budget_mib === 'number') budget = x.metadata.memory_budget_mib;
      if (typeof x.metadata.slo_p99_ms === 'number') slo = x.metadata.slo_p99_ms;
    }
    if (max) {
      const why = typeof max.metadata.stopped_because === 'string' ? max.metadata.stopped_because : 'unknown';
      const detail = typeof max.metadata.detail === 'string' ? ` — ${max.metadata.detail}` : '';
      stops.push(`${s.label}: ${max.value} instance(s) within limits (stopped: ${why}${detail})`);
    }
  }
  if (points.length === 0 && stops.length === 0) return null;
  points.sort((a, b) => String(a.series).localeCompare(String(b.series), 'en') || Number(a.instances) - Number(b.instances) || String(a.what).localeCompare(String(b.what), 'en'));
  const title = 'Density: instances at once vs host memory and p99 latency';
  const x = { field: 'instances', type: 'quantitative', title: 'instances running at once', axis: { tickMinStep: 1, format: 'd' } };
  const panel = (what: 'memory' | 'p99', yTitle: string, limit: number | null, limitLabel: string) => ({
    width: 560,
    height: 200,
    layer: [
      {
        data: { values: points.filter((p) => p.what === what) },
        mark: { type: 'line', point: { filled: true, size: 60 } },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: yTitle },
          color: seriesColor(present),
          tooltip: [
            { field: 'series', title: 'substrate' },
            { field: 'instances', title: 'instances' },
            { field: 'value', title: yTitle, format: '.1f' },
            { field: 'within', title: 'within limits' },
          ],
        },
      },
      ...(limit == null
        ? []
        : [
            {
              data: { values: [{ limit, label: `${limitLabel} ${limit}` }] },
              layer: [
                { mark: { type: 'rule', strokeDash: [6, 4], color: '#b2182b' }, encoding: { y: { field: 'limit', type: 'quantitative' } } },
                { mark: { type: 'text', align: 'right', dy: -6, color: '#b2182b', fontSize: 11, x: 'width' }, encoding: { y: { field: 'limit', type: 'quantitative' }, text: { field: 'label' } } },
              ],
            },
          ]),
    ],
  });
  return {
    id: 'density',
    title,
    caption:
      'Instances of one substrate started one at a time; after each, the summed host memory of all instances (top) and the p99 of a light probe load hitting every instance at once (bottom, 2 req/s each for 3 s). Dashed red: the memory budget and the p99 SLO. One reading per count (n = 1 per point).',
    spec: {
      ...frame(title, [...stops, 'one reading per instance count (n = 1 per point); dashed red lines: the limits the search stops at']),
      vconcat: [panel('memory', 'host memory of all instances (MiB)', budget, 'memory budget (MiB)'), panel('p99', 'probe p99 latency (ms)', slo, 'p99 SLO (ms)')],
      resolve: { scale: { color: 'shared' } },
    },
  };
}
