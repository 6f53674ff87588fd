/**
 * History of many runs of one scenario on one host: a series of per-run
 * medians per metric × platform, its change points, a trend table and a
 * Vega-Lite chart spec per metric. Pure: runs in, data and specs out.
 */
import type { TopLevelSpec } from 'vega-lite';
import { median } from 'simple-statistics';
import { VL_SCHEMA } from '../report/charts/spec.js';
import type { Sample } from '../results/sample.js';
import type { MetricSummary } from '../results/run-record.js';
import { detectChangePoints, type ChangePoint, type ChangePointOptions } from './change-points.js';
import { groupSamples, seriesKey } from './noise.js';
import { signedPercent as pct } from './report-table.js';
import { metricDirection, type Direction } from './thresholds.js';

export interface HistoryRun {
  runId: string;
  startedAt: string;
  samples: readonly Sample[];
  /** run.json summaries, for the bootstrap CI of each median (optional). */
  summaries?: readonly MetricSummary[];
}

/**
 * One run reduced to what a history needs: its per-series medians (and the
 * stored CI of each). A history over many runs keeps these and lets each
 * run's samples go as soon as it is read.
 */
export interface HistoryDigest {
  runId: string;
  startedAt: string;
  series: Array<{ key: string; metric: string; base: string; platform: string; unit: string; median: number; n: number; ciLow: number | null; ciHigh: number | null }>;
}

/** A run's digest: the median and n of every series (warm-ups left out), with the CI run.json stored for it. */
export function digestRun(run: HistoryRun): HistoryDigest {
  const ci = new Map<string, { low: number; high: number } | null>();
  for (const m of run.summaries ?? []) ci.set(seriesKey(m.metric, m.platform), m.summary?.ci95 ?? null);
  const series: HistoryDigest['series'] = [];
  for (const [key, g] of groupSamples(run.samples)) {
    const c = ci.get(key) ?? null;
    series.push({ key, metric: g.metric, base: g.base, platform: g.platform, unit: g.unit, median: median(g.values), n: g.values.length, ciLow: c?.low ?? null, ciHigh: c?.high ?? null });
  }
  return { runId: run.runId, startedAt: run.startedAt, series };
}

export interface HistoryPoint {
  runId: string;
  startedAt: string;
  median: number;
  n: number;
  ciLow: number | null;
  ciHigh: number | null;
}

export interface HistoryChangePoint extends ChangePoint {
  runId: string;
  startedAt: string;
  /** In the metric's bad direction. */
  worse: boolean;
}

export interface HistorySeries {
  metric: string;
  platform: string;
  unit: string;
  direction: Direction;
  points: HistoryPoint[];
  changePoints: HistoryChangePoint[];
}

/**
 * Runs (or their digests) sorted by start time → one series per metric ×
 * platform (runs that lack the metric are skipped in its series).
 */
export function buildHistory(runs: ReadonlyArray<HistoryRun | HistoryDigest>, opts: ChangePointOptions = {}): HistorySeries[] {
  const digests = runs.map((r) => ('series' in r ? r : digestRun(r)));
  const sorted = [...digests].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const series = new Map<string, HistorySeries>();
  for (const run of sorted) {
    for (const g of run.series) {
      let s = series.get(g.key);
      if (!s) {
        series.set(g.key, (s = { metric: g.metric, platform: g.platform, unit: g.unit, direction: metricDirection(g.base), points: [], changePoints: [] }));
      }
      s.points.push({ runId: run.runId, startedAt: run.startedAt, median: g.median, n: g.n, ciLow: g.ciLow, ciHigh: g.ciHigh });
    }
  }
  const out = [...series.values()].sort((a, b) => a.metric.localeCompare(b.metric) || a.platform.localeCompare(b.platform));
  for (const s of out) {
    s.changePoints = detectChangePoints(
      s.points.map((p) => p.median),
      opts,
    ).map((cp) => {
      const at = s.points[cp.index]!;
      return { ...cp, runId: at.runId, startedAt: at.startedAt, worse: s.direction === 'lower' ? cp.relativeChange > 0 : cp.relativeChange < 0 };
    });
  }
  return out;
}

/** Trend table rows: metric, platform, runs, first, last, last vs first, last vs previous, change points. */
export function historyTableRows(series: readonly HistorySeries[], format: (v: number, unit: string) => string): string[][] {
  return series.map((s) => {
    const first = s.points[0]!;
    const last = s.points[s.points.length - 1]!;
    const prev = s.points.length > 1 ? s.points[s.points.length - 2]! : null;
    const cps = s.changePoints.map((c) => `${c.startedAt.slice(0, 10)} ${c.runId.slice(-4)}: ${pct(c.relativeChange)}${c.worse ? ' worse' : ' better'} (p=${c.p.toFixed(3)})`);
    return [
      s.metric,
      s.platform,
      String(s.points.length),
      format(first.median, s.unit),
      format(last.median, s.unit),
      first.median !== 0 ? pct(last.median / first.median - 1) : '—',
      prev && prev.median !== 0 ? pct(last.median / prev.median - 1) : '—',
      cps.length > 0 ? cps.join('; ') : '—',
    ];
  });
}

export const HISTORY_HEADER = ['metric', 'platform', 'runs', 'first', 'last', 'last vs first', 'last vs previous', 'change points'];

/** Longest series (runs) whose chart still marks every run with a point. */
export const MAX_POINT_MARKS = 120;

/** One Vega-Lite chart per metric: median per run (a line per platform), its CI as a band, change points as rules. */
export function historyChartSpec(metric: string, series: readonly HistorySeries[]): TopLevelSpec {
  const mine = series.filter((s) => s.metric === metric);
  const unit = mine[0]?.unit ?? '';
  const direction = mine[0]?.direction === 'higher' ? 'higher is better' : 'lower is better';
  const values = mine.flatMap((s) =>
    s.points.map((p) => ({ platform: s.platform, run: p.runId, time: p.startedAt, median: p.median, low: p.ciLow ?? p.median, high: p.ciHigh ?? p.median })),
  );
  const changes = mine.flatMap((s) =>
    s.changePoints.map((c) => ({ platform: s.platform, time: c.startedAt, label: `${s.platform}: ${pct(c.relativeChange)}`, worse: c.worse })),
  );
  const x = { field: 'time', type: 'temporal' as const, title: 'run start' };
  // A mark per run reads well for weeks of nightlies; over hundreds they merge into the line and only cost render time.
  const points = Math.max(0, ...mine.map((s) => s.points.length)) <= MAX_POINT_MARKS;
  const layers: unknown[] = [
    { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color: { field: 'platform', type: 'nominal' } } },
    {
      mark: { type: 'line', point: points },
      encoding: {
        x,
        y: { field: 'median', type: 'quantitative', title: `${metric} (${unit})`, scale: { zero: false } },
        color: { field: 'platform', type: 'nominal' },
        tooltip: [{ field: 'run' }, { field: 'median', type: 'quantitative' }],
      },
    },
  ];
  if (changes.length > 0) {
    layers.push({
      data: { values: changes },
      mark: { type: 'rule', strokeDash: [4, 4], strokeWidth: 2 },
      encoding: { x, color: { value: '#d62728' } },
    });
  }
  return {
    $schema: VL_SCHEMA,
    title: { text: `${metric} per run`, subtitle: `median per run, 95% CI band, ${direction}; dashed: change points` },
    width: 560,
    height: 220,
    data: { values },
    layer: layers,
  } as unknown as TopLevelSpec;
}

/** File-name-safe metric name ("latency_p99@c=4" → "latency_p99_c_4"). */
export function metricFileName(metric: string): string {
  return metric.replace(/[^a-zA-Z0-9_-]+/g, '_');
}
