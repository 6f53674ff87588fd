import type { StoredRun } from '../../results/read-run.js';
import { fmt, round } from '../format.js';
import { median, samplesOf, type Series } from '../series.js';
import { frame, rowAxis, rowLabelLayer, seriesColor, type Chart } from './spec.js';

/** Network round trip (no inference): p50 and p99 per substrate on a log axis, with the number of requests behind them. */
export function networkRttChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const rows: Array<Record<string, string | number>> = [];
  const ranges: Array<Record<string, string | number>> = [];
  const present: Series[] = [];
  for (const s of series) {
    const p50 = samplesOf(runs, s, 'network_rtt_p50');
    const p99 = samplesOf(runs, s, 'network_rtt_p99');
    if (p50.length === 0) continue;
    present.push(s);
    const requests = p50.reduce((sum, x) => sum + (typeof x.metadata.requests === 'number' ? x.metadata.requests : 0), 0);
    const network = p50[0]!.metadata.network;
    const row = s.label;
    // Without a request count in the samples, say how many readings there are rather than calling them requests.
    const about = `${typeof network === 'string' ? ` · ${network}` : ''} · n = ${requests ? `${requests} requests` : `${p50.length} reading(s)`}`;
    const m50 = median(p50.map((x) => x.value))!;
    rows.push({ series: s.label, row, stat: 'p50', value_ms: round(m50) });
    const m99 = p99.length ? median(p99.map((x) => x.value)) : null;
    if (m99 != null) rows.push({ series: s.label, row, stat: 'p99', value_ms: round(m99) });
    ranges.push({ series: s.label, row, low: round(m50), high: round(m99 ?? m50), label: `p50 ${fmt(m50, 'ms')} · p99 ${fmt(m99, 'ms')}${about}` });
  }
  if (rows.length === 0) return null;
  const title = 'Network round trip (GET /v2/health/live, no inference)';
  const order = ranges.map((r) => String(r.row));
  const y = rowAxis(order);
  const x = { field: 'value_ms', type: 'quantitative', title: 'round trip (ms, log scale)', scale: { type: 'log' } };
  return {
    id: 'network-rtt',
    title,
    caption:
      'Sequential requests on one keep-alive connection to an endpoint that does no inference, so the figure is the network path plus a trivial HTTP handler. Circle = median (p50), square = p99; log axis.',
    spec: {
      ...frame(title, ['circle: p50 · square: p99 of the sequential requests on one keep-alive connection', 'path: Docker host networking / bridge + docker-proxy / QEMU user networking (hostfwd)']),
      width: 560,
      height: { step: 48 },
      layer: [
        {
          data: { values: ranges },
          mark: { type: 'rule', strokeWidth: 2, color: '#999' },
          encoding: { x: { field: 'low', type: 'quantitative', scale: { type: 'log' }, title: 'round trip (ms, log scale)' }, x2: { field: 'high' }, y },
        },
        {
          data: { values: rows },
          mark: { type: 'point', filled: true, size: 110 },
          encoding: {
            x,
            y,
            color: seriesColor(present),
            shape: { field: 'stat', type: 'nominal', title: 'statistic', scale: { domain: ['p50', 'p99'], range: ['circle', 'square'] } },
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'stat', title: 'statistic' },
              { field: 'value_ms', title: 'ms', format: '.3f' },
            ],
          },
        },
        rowLabelLayer(ranges, y, 'high', 10),
      ],
    },
  };
}
