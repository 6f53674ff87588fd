import type { StoredRun } from '../results/read-run.js';
import { fmt, fmtP, fmtRatio } from './format.js';
import { runView } from './run-view.js';
import { seriesOf } from './series.js';

/** One row of the summary table: a metric on one substrate of one run, with its ratio to the run's container. */
export interface SummaryRow {
  runId: string;
  /** The series' display name (metric and parameters). */
  metric: string;
  /** Measured at parameters (a load level, an instance count, a memory phase). */
  parameterized: boolean;
  substrate: string;
  kind: string;
  unit: string;
  n: number;
  median: string;
  ci95: string;
  spread: string;
  /** "vm ÷ container" ratio of medians to the run's reference, with its CI; empty for the reference itself. */
  ratio: string;
  ratioCI: string;
  significance: string;
}

/** Metrics in the order a reader meets them; any other metric follows in first-seen order. */
const ORDER = [
  'startup', 'cold_start', 'image_size', 'memory_host', 'memory_workload_pss', 'memory_overhead', 'memory_overhead_pct',
  'density_max_instances', 'density_marginal_memory', 'network_rtt_p50', 'network_rtt_p99', 'snapshot_restore',
  'snapshot_fresh', 'snapshot_take', 'snapshot_size',
];

export function metricOrder(metrics: readonly string[]): string[] {
  const known = ORDER.filter((m) => metrics.includes(m));
  const rest = metrics.filter((m) => !ORDER.includes(m));
  return [...known, ...rest];
}

/**
 * Metric × substrate rows from the stored summaries and the ratios against
 * each run's reference (`reference` where a run has it), every run in order.
 * Pure.
 */
export function summaryRows(runs: readonly StoredRun[], reference?: string): SummaryRow[] {
  const series = seriesOf(runs);
  const rows: SummaryRow[] = [];
  runs.forEach((run, runIndex) => {
    const view = runView(run, reference);
    const metrics = metricOrder([...new Set(run.record.summaries.map((s) => s.metric))]);
    for (const metric of metrics) {
      for (const s of run.record.summaries.filter((x) => x.metric === metric)) {
        const sum = s.summary;
        const label = series.find((x) => x.runIndex === runIndex && x.platform === s.platform)?.label ?? s.platform;
        const mine = view.ratios.filter((x) => x.metric === metric && x.numerator === s.platform);
        const r = mine.find((x) => x.denominator === view.reference) ?? mine[0];
        rows.push({
          runId: run.record.runId,
          metric,
          parameterized: s.params !== undefined,
          substrate: label,
          kind: s.kind,
          unit: s.unit,
          n: sum?.n ?? 0,
          median: fmt(sum?.median, s.unit),
          ci95: sum?.ci95 ? `${fmt(sum.ci95.low, s.unit)} – ${fmt(sum.ci95.high, s.unit)}` : '—',
          spread: sum && sum.n > 1 ? `${fmt(sum.min, s.unit)} – ${fmt(sum.max, s.unit)}` : '—',
          ratio: r ? `${fmtRatio(r.ratio)} (÷ ${r.denominator})` : '',
          ratioCI: r?.ratioCI ? `${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)}` : r ? '—' : '',
          significance: r ? (r.p == null ? 'no test (n < 2)' : `${fmtP(r.p)}${r.significant ? ' significant' : ' not significant'}`) : '',
        });
      }
    }
  });
  return rows;
}
