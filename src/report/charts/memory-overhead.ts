import type { StoredRun } from '../../results/read-run.js';
import { fmt, round } from '../format.js';
import { median, valuesOf, type Series } from '../series.js';
import { frame, rowAxis, rowLabelLayer, seriesColor, type Chart } from './spec.js';

/**
 * Host memory per ready instance, stacked: the workload's own PSS (as seen
 * inside the instance) and the overhead (host − workload). Medians when
 * several readings exist; n is printed per substrate.
 */
export function memoryOverheadChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const rows: Array<Record<string, string | number>> = [];
  const labels: Array<Record<string, string | number>> = [];
  const present: Series[] = [];
  for (const s of series) {
    const host = valuesOf(runs, s, 'memory_host');
    const pss = valuesOf(runs, s, 'memory_workload_pss');
    if (host.length === 0 || pss.length === 0) continue;
    present.push(s);
    const h = median(host)!;
    const w = median(pss)!;
    const overheadPct = valuesOf(runs, s, 'memory_overhead_pct');
    const pct = overheadPct.length ? median(overheadPct)! : ((h - w) / w) * 100;
    const n = Math.min(host.length, pss.length);
    const row = `${s.label} (n = ${n})`;
    rows.push({ series: s.label, row, part: 'workload (server PSS inside the instance)', order: 0, start: 0, end: round(w), value_mib: round(w) });
    rows.push({ series: s.label, row, part: 'overhead (host − workload)', order: 1, start: round(w), end: round(h), value_mib: round(h - w) });
    labels.push({ series: s.label, row, end: round(Math.max(h, w)), label: `host ${fmt(h, 'MiB')} = workload ${fmt(w, 'MiB')} + overhead ${fmt(h - w, 'MiB')} (${pct.toFixed(1)} %)` });
  }
  if (rows.length === 0) return null;
  const title = 'Memory per ready instance: workload vs overhead';
  const rowsOrder = [...new Set(rows.map((r) => String(r.row)))];
  const y = rowAxis(rowsOrder);
  const n1 = present.some((s) => valuesOf(runs, s, 'memory_host').length < 2);
  return {
    id: 'memory-overhead',
    title,
    caption:
      'Host memory attributable to one idle, ready instance (MiB), split into the server process\'s own PSS read inside the instance and everything else the host spends on it (container runtime, or guest kernel + guest page cache + QEMU). Solid = workload, light = overhead.',
    spec: {
      ...frame(title, [
        'solid: the server process\'s PSS inside the instance · light: overhead = host memory − workload PSS',
        n1 ? 'n = 1 reading per substrate: no spread or CI can be given' : 'medians of the readings',
      ]),
      width: 560,
      height: { step: 56 },
      layer: [
        {
          data: { values: rows },
          mark: { type: 'bar', stroke: 'white', strokeWidth: 1 },
          encoding: {
            x: { field: 'start', type: 'quantitative', title: 'host memory per instance (MiB)' },
            x2: { field: 'end' },
            y,
            color: seriesColor(present),
            opacity: {
              field: 'part',
              type: 'ordinal',
              sort: ['workload (server PSS inside the instance)', 'overhead (host − workload)'],
              title: 'part',
              scale: { domain: ['workload (server PSS inside the instance)', 'overhead (host − workload)'], range: [1, 0.4] },
            },
            tooltip: [
              { field: 'series', title: 'substrate' },
              { field: 'part', title: 'part' },
              { field: 'value_mib', title: 'MiB', format: '.1f' },
            ],
          },
        },
        rowLabelLayer(labels, y, 'end', 6),
      ],
    },
  };
}
