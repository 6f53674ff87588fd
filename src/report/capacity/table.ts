import { fmt } from '../format.js';
import type { RunProjection, SubstrateProjection, Figure } from './projection.js';

export const PROJECTION_LABEL = 'projection from one host\'s measurements';

const num = (x: number, digits = 3) => String(Number(x.toPrecision(digits)));

function withInterval(p: SubstrateProjection, k: Figure, value: number | null, show: (x: number) => string): string {
  if (value == null) return '—';
  const iv = p.intervals[k];
  if (!iv) return show(value);
  return iv.low === iv.high ? `${show(value)} (no spread)` : `${show(value)} (${show(iv.low)} – ${show(iv.high)})`;
}

/** The settings line: SLO, target, host profile, and where each came from. */
export function projectionSettingsLine(pr: RunProjection): string {
  const s = pr.settings;
  const price = s.host.pricePerHour == null ? 'no price given' : `${num(s.host.pricePerHour, 4)} ${s.host.currency} per host-hour`;
  return `${PROJECTION_LABEL}: p99 ≤ ${s.sloMs == null ? '—' : fmt(s.sloMs, 'ms')} (${s.sloSource}); target ${s.targetRate == null ? 'none given (per-host figures only)' : `${num(s.targetRate, 6)} req/s`}; host ${num(s.host.cores, 6)} cores, ${num(s.host.memoryMiB / 1024, 4)} GiB (${s.hostSource}), ${price}. Intervals: 95 % bootstrap over the samples (${'each load window, density step and memory reading resampled'}).`;
}

export const PROJECTION_HEADER = [
  'substrate',
  'req/s per instance at the SLO',
  'memory per instance',
  'instances per host (bound)',
  'req/s per host',
  'hosts for the target',
  'host-hours per 10⁶ inferences',
  'cost per 10⁶ inferences',
  'based on (windows · density steps · memory readings)',
] as const;

/** One row of cells per substrate; a substrate that cannot be projected says why, in every figure's place. */
export function projectionRows(pr: RunProjection): string[][] {
  const cur = pr.settings.host.currency;
  return pr.rows.map((p) => {
    const n = `${p.n.windows} · ${p.n.densitySteps} · ${p.n.memoryReadings}`;
    const perInstance =
      p.inputs.throughputPerInstance === 0 ? 'none within the SLO' : withInterval(p, 'throughputPerInstance', p.inputs.throughputPerInstance, (x) => fmt(x, 'req/s'));
    const memory = withInterval(p, 'memoryPerInstance', p.inputs.memoryLine?.slope ?? null, (x) => fmt(x, 'MiB'));
    if (!p.figures) return [p.platform, perInstance, memory, `not projectable: ${p.notProjectable}`, '—', '—', '—', '—', n];
    const f = p.figures;
    const bounds = Object.entries(f.bounds).map(([b, v]) => `${b} ${v}`).join(', ');
    return [
      p.platform,
      perInstance,
      memory,
      `${withInterval(p, 'instancesPerHost', f.instancesPerHost, (x) => num(x, 6))} — ${f.binding}-bound (${bounds})`,
      withInterval(p, 'throughputPerHost', f.throughputPerHost, (x) => fmt(x, 'req/s')),
      f.hostsNeeded == null ? '— (no target)' : withInterval(p, 'hostsNeeded', f.hostsNeeded, (x) => num(x, 6)),
      withInterval(p, 'hostHoursPerMillion', f.hostHoursPerMillion, (x) => num(x)),
      f.costPerMillion == null ? '— (no price)' : withInterval(p, 'costPerMillion', f.costPerMillion, (x) => `${num(x)} ${cur}`),
      n,
    ];
  });
}

/** Notes under the table: density searches that could not bound a substrate, and what a figure means. */
export function projectionNotes(pr: RunProjection): string[] {
  const notes = pr.rows.flatMap((p) => p.notes.map((n) => `${p.platform}: ${n}`));
  notes.push(
    'req/s per instance: the best throughput of a load level (or max-rate search) whose p99 met the SLO, one instance alone on the measuring host; instances per host: the least of the memory bound (host memory ÷ the density search\'s memory per extra instance), the CPU bound (host cores ÷ the CPUs each instance is given) and the density search\'s own limit at the same SLO; hosts and costs assume every host serves that many instances at that rate.',
  );
  return notes;
}

/** The projection of one run as Markdown-ready pieces: the settings line, the table (header + rows) and the notes; or why there is none. */
export function projectionSection(pr: RunProjection): { settings: string; header: readonly string[]; rows: string[][]; notes: string[] } | { reason: string } {
  if (pr.reason) return { reason: pr.reason };
  return { settings: projectionSettingsLine(pr), header: PROJECTION_HEADER, rows: projectionRows(pr), notes: projectionNotes(pr) };
}
