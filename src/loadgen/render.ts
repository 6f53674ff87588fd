/** Plain-text rendering of a LoadResult (the last of record → encode → aggregate → render). */
import { totalErrors, type LoadResult } from './result.js';

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const int = (v: number): string => Math.round(v).toLocaleString('en-US');

export function renderLoadResult(r: LoadResult): string {
  const how =
    r.mode === 'closed'
      ? `closed loop, ${r.connections ?? '?'} connections`
      : `open loop at ${r.rate ?? '?'} req/s (${r.connections ?? 0} connections used)`;
  const errs = Object.entries(r.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const l = r.latencyMs;
  const lines = [
    `${how}, ${(r.durationMs / 1000).toFixed(1)} s: ${int(r.requests)} ok (${r.reqPerSec.toFixed(1)} req/s), ` +
      `${totalErrors(r)} errors${errs ? ` (${errs})` : ''}, ${r.timeouts} timeouts` +
      (r.mode === 'open' ? `, ${r.late ?? 0} late, ${r.dropped ?? 0} dropped` : '') +
      (r.stoppedBy === 'duration' ? '' : ` [stopped by ${r.stoppedBy}]`),
    `latency ms: min ${ms(l.min)}  mean ${ms(l.mean)}  p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}`,
    `load generator CPU: ${r.loadgenCpu.cores.toFixed(2)} cores` + (r.loadgenCpu.saturated ? ' (SATURATED: the generator may be the bottleneck)' : ''),
  ];
  return lines.join('\n');
}
