import type { StoredRun } from '../../results/read-run.js';
import { projectRun, type SubstrateProjection } from '../capacity/projection.js';
import { PROJECTION_LABEL } from '../capacity/table.js';
import { fmt, round } from '../format.js';
import type { ReportOptions } from '../options.js';
import { runView } from '../run-view.js';
import type { Series } from '../series.js';
import { frame, rowAxis, seriesColor, type Chart } from './spec.js';

/**
 * Capacity and cost: per substrate, the requests per second one host serves
 * within the p99 SLO (top), and the hosts the target load needs — or, with no
 * target, the host-hours per million inferences (bottom); bars with the 95 %
 * bootstrap interval. Substrates that cannot be projected are named in the
 * subtitle with the reason.
 */
export function capacityChart(runs: readonly StoredRun[], series: readonly Series[], options: ReportOptions = {}): Chart | null {
  const rows: Array<Record<string, string | number>> = [];
  const missing: string[] = [];
  const present: Series[] = [];
  const settings: string[] = [];
  let target = false;
  runs.forEach((run, runIndex) => {
    const pr = projectRun(runView(run, options.reference), options);
    if (pr.reason) return;
    const s0 = pr.settings;
    target ||= s0.targetRate != null;
    settings.push(`${runs.length > 1 ? `${run.record.runId}: ` : ''}p99 ≤ ${fmt(s0.sloMs, 'ms')}, host ${s0.host.cores} cores / ${Number((s0.host.memoryMiB / 1024).toPrecision(4))} GiB (${s0.hostSource})${s0.targetRate != null ? `, target ${s0.targetRate} req/s` : ''}`);
    for (const p of pr.rows) {
      const s = series.find((x) => x.runIndex === runIndex && x.platform === p.platform);
      if (!s) continue;
      if (!p.figures) {
        missing.push(`${s.label}: ${p.notProjectable}`);
        continue;
      }
      present.push(s);
      const second = s0.targetRate != null ? { key: 'hostsNeeded' as const, v: p.figures.hostsNeeded! } : { key: 'hostHoursPerMillion' as const, v: p.figures.hostHoursPerMillion! };
      const iv = (k: keyof SubstrateProjection['intervals'], v: number) => p.intervals[k] ?? { low: v, high: v };
      const a = iv('throughputPerHost', p.figures.throughputPerHost);
      const b = iv(second.key, second.v);
      rows.push({ series: s.label, row: s.label, panel: 'throughput', value: round(p.figures.throughputPerHost), low: round(a.low), high: round(a.high), label: `${fmt(p.figures.throughputPerHost, 'req/s')} (${p.figures.instancesPerHost} × ${fmt(p.inputs.throughputPerInstance, 'req/s')}, ${p.figures.binding}-bound)` });
      rows.push({ series: s.label, row: s.label, panel: 'fleet', value: round(second.v), low: round(b.low), high: round(b.high), label: second.key === 'hostsNeeded' ? `${second.v} host(s)` : `${Number(second.v.toPrecision(3))} host-hours` });
    }
  });
  if (rows.length === 0) return null;
  const order = [...new Set(rows.map((r) => String(r.row)))];
  const y = rowAxis(order);
  const panel = (which: 'throughput' | 'fleet', title: string) => {
    const values = rows.filter((r) => r.panel === which);
    const x = { field: 'value', type: 'quantitative', title, scale: { zero: true } };
    return {
      width: 480,
      height: { step: 40 },
      data: { values },
      layer: [
        { mark: { type: 'bar', height: { band: 0.6 } }, encoding: { x, y, color: seriesColor(present) } },
        { mark: { type: 'rule', strokeWidth: 2, color: '#222' }, encoding: { x: { field: 'low', type: 'quantitative', title }, x2: { field: 'high' }, y } },
        { mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 }, encoding: { x: { field: 'high', type: 'quantitative', title }, y, text: { field: 'label' } } },
      ],
    };
  };
  const title = `Capacity and cost: ${PROJECTION_LABEL}`;
  return {
    id: 'capacity',
    title,
    caption:
      'Top: requests per second one host serves with every instance within the p99 SLO (instances per host × one instance\'s throughput at the SLO). Bottom: hosts the target load needs, or without a target the host-hours per million inferences. Bars: the projection from the measured figures; black rules: the 95 % bootstrap interval over the samples. A projection, from one host\'s measurements: not a measurement of a fleet.',
    spec: {
      ...frame(title, [...settings, ...(missing.length ? [`not projectable — ${missing.join('; ')}`] : []), 'black rule: 95 % bootstrap interval over the samples']),
      vconcat: [panel('throughput', 'req/s per host within the p99 SLO'), panel('fleet', target ? 'hosts for the target load' : 'host-hours per million inferences')],
      resolve: { scale: { color: 'shared' } },
    },
  };
}
