import type { StoredRun } from '../../results/read-run.js';
import { round } from '../format.js';
import { metricLabel, paramsLabel, type SampleParams } from '../../results/sample.js';
import { median, samplesOf, type Series } from '../series.js';
import { frame, seriesColor, type Chart } from './spec.js';

export interface Level {
  /** How the level reads ("c=4", "r=50"). */
  level: string;
  mode: 'closed' | 'open';
  /** Connections or rate, for ordering. */
  load: number;
  params: SampleParams;
}

/** The load levels measured in a run (from the throughput samples' parameters), closed loop first then open, each in increasing load. */
export function levelsOf(run: StoredRun): Level[] {
  const seen = new Map<string, Level>();
  for (const x of run.samples) {
    if (x.metric !== 'throughput' || !x.params) continue;
    const { connections, rate } = x.params;
    const level = paramsLabel(x.params);
    if (seen.has(level)) continue;
    if (typeof connections === 'number') seen.set(level, { level, mode: 'closed', load: connections, params: x.params });
    else if (typeof rate === 'number') seen.set(level, { level, mode: 'open', load: rate, params: x.params });
  }
  return [...seen.values()].sort((a, b) => (a.mode === b.mode ? a.load - b.load : a.mode === 'closed' ? -1 : 1));
}

/**
 * Throughput–latency curve: for each load level, successful req/s against the
 * p50 and p99 latency (closed loop: N connections; open loop: constant rate,
 * latency from the intended send time). Levels where nothing succeeded have
 * no latency and are listed in the subtitle instead of being drawn.
 */
export function throughputLatencyChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const points: Array<Record<string, string | number>> = [];
  const failed: string[] = [];
  const present: Series[] = [];
  let window = '';
  for (const s of series) {
    const run = runs[s.runIndex]!;
    let any = false;
    for (const lv of levelsOf(run)) {
      const mine = (metric: string) => samplesOf(runs, s, metricLabel(metric, lv.params));
      const tp = mine('throughput');
      if (tp.length === 0) continue;
      const rps = median(tp.map((x) => x.value))!;
      const requests = tp.reduce((sum, x) => sum + (typeof x.metadata.requests === 'number' ? x.metadata.requests : 0), 0);
      if (typeof tp[0]!.metadata.duration_ms === 'number') window = `${tp[0]!.metadata.duration_ms / 1000} s`;
      for (const pct of ['p50', 'p99'] as const) {
        const lat = mine(`latency_${pct}`);
        if (lat.length === 0) continue;
        any = true;
        points.push({
          series: s.label,
          curve: `${s.label} ${pct}`,
          level: lv.level,
          mode: lv.mode === 'closed' ? 'closed loop (connections)' : 'open loop (rate, CO-corrected)',
          load: lv.load,
          percentile: pct,
          throughput_rps: round(rps),
          latency_ms: round(median(lat.map((x) => x.value))!),
          requests,
          n: tp.length,
        });
      }
      if (mine('latency_p50').length === 0) failed.push(`${s.label} @ ${lv.level}: ${rps} req/s, no successful request`);
    }
    if (any) present.push(s);
  }
  if (points.length === 0) return null;
  const title = 'Throughput vs latency per load level';
  return {
    id: 'throughput-latency',
    title,
    caption:
      'Each point is one load level (closed loop: c = concurrent connections; open loop: r = requests/s sent at a constant rate, latency counted from the intended send time). x: successful responses per second; y: p50 (solid) and p99 (dashed) latency from the level\'s HDR histogram.',
    spec: {
      ...frame(title, [
        `each point: one measured window${window ? ` of ${window}` : ''}; label = load level; solid: p50, dashed: p99; n = requests answered in the window`,
        ...(failed.length ? [`not drawn (no successful request): ${failed.join('; ')}`] : []),
      ]),
      width: 560,
      height: 300,
      data: { values: points },
      layer: [
        {
          mark: { type: 'line', point: { filled: true, size: 70 } },
          encoding: {
            x: { field: 'throughput_rps', type: 'quantitative', title: 'throughput (successful req/s)', scale: { zero: true } },
            y: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms, log scale)', scale: { type: 'log' } },
            color: seriesColor(present),
            detail: { field: 'curve' },
            strokeDash: { field: 'percentile', type: 'nominal', title: 'percentile', scale: { domain: ['p50', 'p99'], range: [[1, 0], [6, 4]] } },
            shape: { field: 'mode', type: 'nominal', title: 'load' },
            order: { field: 'load', type: 'quantitative' },
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'level', title: 'level' },
              { field: 'percentile', title: 'percentile' },
              { field: 'throughput_rps', title: 'req/s', format: '.1f' },
              { field: 'latency_ms', title: 'latency (ms)', format: '.1f' },
              { field: 'requests', title: 'requests answered' },
            ],
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10 },
          encoding: {
            x: { field: 'throughput_rps', type: 'quantitative' },
            y: { field: 'latency_ms', type: 'quantitative', scale: { type: 'log' } },
            text: { field: 'level' },
            color: seriesColor(present),
          },
        },
      ],
    },
  };
}
