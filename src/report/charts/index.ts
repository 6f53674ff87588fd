import type { StoredRun } from '../../results/read-run.js';
import type { ReportOptions } from '../options.js';
import type { Series } from '../series.js';
import { capacityChart } from './capacity.js';
import { coldStartChart } from './cold-start.js';
import { densityChart } from './density.js';
import { imageSizeChart } from './image-size.js';
import { latencySpectrumChart } from './latency-spectrum.js';
import { memoryOverheadChart } from './memory-overhead.js';
import { networkRttChart } from './network-rtt.js';
import { noisyNeighborsChart } from './noisy-neighbors.js';
import type { Chart } from './spec.js';
import { startupPhasesChart } from './startup-phases.js';
import { throughputLatencyChart } from './throughput-latency.js';

export type { Chart, VlSpec } from './spec.js';

/** Every chart kind a report can hold, in report order, with what it needs. */
export const CHART_KINDS: ReadonlyArray<{ id: string; title: string; needs: string; build: (runs: readonly StoredRun[], series: readonly Series[], options: ReportOptions) => Chart | null }> = [
  { id: 'startup-phases', title: 'Startup phase breakdown', needs: 'startup (phase_* samples)', build: startupPhasesChart },
  { id: 'cold-start', title: 'Cold start distribution', needs: 'cold_start', build: (r, s) => coldStartChart(r, s, 'cold_start') },
  { id: 'startup', title: 'Startup distribution', needs: 'startup', build: (r, s) => coldStartChart(r, s, 'startup') },
  { id: 'memory-overhead', title: 'Memory overhead', needs: 'memory', build: memoryOverheadChart },
  { id: 'density', title: 'Density curve', needs: 'density', build: densityChart },
  { id: 'throughput-latency', title: 'Throughput–latency curve', needs: 'throughput', build: throughputLatencyChart },
  { id: 'latency-spectrum', title: 'Latency percentile spectrum', needs: 'throughput (HDR histograms)', build: latencySpectrumChart },
  { id: 'network-rtt', title: 'Network round trip', needs: 'network', build: networkRttChart },
  { id: 'image-size', title: 'Image size', needs: 'image_size (every run)', build: imageSizeChart },
  { id: 'noisy-neighbors', title: 'Noisy neighbours', needs: 'isolation (neighbor_* samples)', build: noisyNeighborsChart },
  { id: 'capacity', title: 'Capacity and cost projection', needs: 'throughput within a p99 SLO, and density or memory', build: capacityChart },
];

/** The charts the runs have data for (a chart without data is not produced). Pure. */
export function buildCharts(runs: readonly StoredRun[], series: readonly Series[], options: ReportOptions = {}): Chart[] {
  return CHART_KINDS.map((k) => k.build(runs, series, options)).filter((c): c is Chart => c !== null);
}

/**
 * The chart kinds with no data in these runs: the report lists them as "not
 * measured". Pass the charts already built to spare building every chart again
 * (a chart's id is its kind's id).
 */
export function missingCharts(
  runs: readonly StoredRun[],
  series: readonly Series[],
  built: readonly Chart[] = buildCharts(runs, series),
): Array<{ id: string; title: string; needs: string }> {
  const drawn = new Set(built.map((c) => c.id));
  return CHART_KINDS.filter((k) => !drawn.has(k.id)).map(({ id, title, needs }) => ({ id, title, needs }));
}
