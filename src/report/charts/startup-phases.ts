import type { StoredRun } from '../../results/read-run.js';
import { fmt, round } from '../format.js';
import { median, summaryOf, valuesOf, type Series } from '../series.js';
import { frame, type Chart } from './spec.js';

/** Phases in launch order, with the segment name that ends at each. */
export const PHASES: ReadonlyArray<{ metric: string; segment: string }> = [
  { metric: 'phase_created', segment: 'create call' },
  { metric: 'phase_started', segment: 'start (container start / QEMU process up)' },
  { metric: 'phase_kernel_init', segment: 'guest kernel boot → init' },
  { metric: 'phase_process_start', segment: 'until the server process starts' },
  { metric: 'phase_listening', segment: 'server module load → listening' },
  { metric: 'phase_model_loaded', segment: 'model load (ONNX Runtime session)' },
  { metric: 'phase_ready', segment: 'warm-up inference → ready' },
];
const POLL_SEGMENT = 'readiness poll sees HTTP 200';
const PHASE_COLORS = ['#c7c7c7', '#9e9e9e', '#8c6bb1', '#6baed6', '#74c476', '#fd8d3c', '#e7298a', '#525252'];

/**
 * Where the startup time goes, per substrate: one horizontal bar made of the
 * segments between the medians of the cumulative phase timestamps (ms after
 * the launch call). Each substrate gets its own row and time axis (a container
 * and an emulated VM differ 50×). A segment whose phase median is earlier than
 * the previous one's is drawn with zero width, never negative.
 */
export function startupPhasesChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const rows: Array<Record<string, string | number>> = [];
  const rowLabels: string[] = [];
  for (const s of series) {
    const marks = PHASES.map((p) => ({ ...p, values: valuesOf(runs, s, p.metric) })).filter((p) => p.values.length > 0);
    if (marks.length === 0) continue;
    const startup = summaryOf(runs, s, 'startup')?.summary ?? null;
    const n = Math.max(...marks.map((m) => m.values.length));
    const row = `${s.label} · n = ${n}${startup ? ` · startup median ${fmt(startup.median, 'ms')}` : ''}`;
    rowLabels.push(row);
    let prev = 0;
    const segments = marks.map((m) => ({ segment: m.segment, at: median(m.values)! }));
    if (startup) segments.push({ segment: POLL_SEGMENT, at: startup.median });
    for (const seg of segments) {
      const end = Math.max(prev, seg.at);
      rows.push({ series: s.label, row, segment: seg.segment, start_ms: round(prev), end_ms: round(end), duration_ms: round(end - prev), label: fmt(end - prev, 'ms') });
      prev = end;
    }
  }
  if (rows.length === 0) return null;
  const title = 'Startup phase breakdown: where launch → ready goes';
  const segmentOrder = [...PHASES.map((p) => p.segment), POLL_SEGMENT];
  return {
    id: 'startup-phases',
    title,
    caption:
      'One bar per substrate, split at the medians of the phase timestamps (ms after the launch call). Each substrate has its own time axis. A phase that does not apply (e.g. guest kernel boot in a container) is absent.',
    spec: {
      ...frame(title, [
        'segments between medians of the phase timestamps (ms after the launch call); each row has its own time axis',
        'container phases from the server log (±1 ms); VM phases when the console line arrived (±20 ms)',
      ]),
      data: { values: rows },
      facet: {
        row: { field: 'row', type: 'nominal', sort: rowLabels, title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold', labelFontSize: 12 } },
      },
      resolve: { scale: { x: 'independent' } },
      spacing: 18,
      spec: {
        width: 640,
        height: 34,
        layer: [
          {
            mark: { type: 'bar', stroke: 'white', strokeWidth: 1 },
            encoding: {
              x: { field: 'start_ms', type: 'quantitative', title: 'ms after the launch call' },
              x2: { field: 'end_ms' },
              color: {
                field: 'segment',
                type: 'nominal',
                title: 'phase',
                scale: { domain: segmentOrder, range: PHASE_COLORS },
                sort: segmentOrder,
              },
              tooltip: [
                { field: 'series', title: 'substrate' },
                { field: 'segment', title: 'phase' },
                { field: 'duration_ms', title: 'duration (ms)', format: '.1f' },
                { field: 'end_ms', title: 'ends at (ms)', format: '.1f' },
              ],
            },
          },
        ],
      },
    },
  };
}
