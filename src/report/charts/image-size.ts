import type { StoredRun } from '../../results/read-run.js';
import { fmt, round } from '../format.js';
import { samplesOf, type Series } from '../series.js';
import { frame, rowAxis, rowLabelLayer, seriesColor, type Chart } from './spec.js';

const MIB = 2 ** 20;

/** What must be on a host before an instance can start (MiB), split into its parts where the sample records them. */
export function imageSizeChart(runs: readonly StoredRun[], series: readonly Series[]): Chart | null {
  const rows: Array<Record<string, string | number>> = [];
  const labels: Array<Record<string, string | number>> = [];
  const present: Series[] = [];
  for (const s of series) {
    const x = samplesOf(runs, s, 'image_size')[0];
    if (!x) continue;
    present.push(s);
    const row = s.label;
    const m = x.metadata;
    const parts: Array<[string, number]> =
      typeof m.disk_bytes === 'number' && typeof m.kernel_bytes === 'number' && typeof m.initrd_bytes === 'number'
        ? [['disk image (qcow2 on disk)', m.disk_bytes / MIB], ['kernel', m.kernel_bytes / MIB], ['initramfs', m.initrd_bytes / MIB]]
        : [[s.kind === 'docker' ? 'container image' : 'image', x.value]];
    let start = 0;
    for (const [part, mib] of parts) {
      rows.push({ series: s.label, row, part, start: round(start), end: round(start + mib), value_mib: round(mib) });
      start += mib;
    }
    labels.push({ series: s.label, row, end: round(x.value), label: `${fmt(x.value, 'MiB')}${parts.length > 1 ? ` (${parts.map(([p, v]) => `${p.split(' ')[0]} ${v.toFixed(1)}`).join(' + ')})` : ''}` });
  }
  if (rows.length === 0) return null;
  const title = 'Image size: what a host must hold before an instance starts';
  const y = rowAxis(present.map((s) => s.label));
  return {
    id: 'image-size',
    title,
    caption:
      'Docker: the image size the engine reports. VM: the qcow2 disk\'s actual size on disk + kernel + initramfs (segments). Both are built from the same root filesystem. One value per substrate (n = 1: a size does not vary).',
    spec: {
      ...frame(title, ['Docker: engine-reported image Size · VM: qcow2 size on disk + kernel + initramfs', 'same root filesystem in both; n = 1 per substrate (a size has no spread)']),
      width: 560,
      height: { step: 48 },
      layer: [
        {
          data: { values: rows },
          mark: { type: 'bar', stroke: 'white', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'start', type: 'quantitative', title: 'size (MiB)' },
            x2: { field: 'end' },
            y,
            color: seriesColor(present),
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
