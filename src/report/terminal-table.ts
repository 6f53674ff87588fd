import type { MetricSummary, RatioRow } from '../results/run-record.js';

/** Milliseconds as a human figure with its unit: 87.3 ms, 4.21 s, 2.1 min. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A value with its unit, durations humanised ("us" reads µs). */
export function formatValue(v: number, unit: string): string {
  return unit === 'ms' ? formatMs(v) : `${Number(v.toPrecision(4))} ${unit === 'us' ? 'µs' : unit}`;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - [...s].length));
}

/** Renders rows × columns as an aligned plain-text table. Pure. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A p-value as "p = 0.042", or "p < 0.001" below what three decimals show. */
export function formatP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

/**
 * The end-of-run table, one row per metric × platform: median, bootstrap 95 %
 * CI of the median, min – max, n and flagged outliers; after each metric, a
 * row per VM ÷ container ratio of medians with its CI and the Mann–Whitney p.
 * Pure.
 */
export function renderSummaryTable(summaries: readonly MetricSummary[], ratios: readonly RatioRow[]): string {
  const header = ['metric', 'platform', 'median', '95% CI of median', 'min – max', 'n', 'outliers'];
  const rows: string[][] = [];
  const metrics = [...new Set(summaries.map((s) => s.metric))];
  for (const metric of metrics) {
    for (const s of summaries.filter((x) => x.metric === metric)) {
      const sum = s.summary;
      const v = (x: number) => formatValue(x, s.unit);
      rows.push([
        metric,
        `${s.platform} (${s.kind})`,
        sum ? v(sum.median) : '—',
        sum?.ci95 ? `${v(sum.ci95.low)} – ${v(sum.ci95.high)}` : '—',
        sum && sum.n > 1 ? `${v(sum.min)} – ${v(sum.max)}` : '—',
        String(sum?.n ?? 0),
        sum?.outliers.length ? sum.outliers.map((o) => v(o.value)).join(', ') : '',
      ]);
    }
    for (const r of ratios.filter((x) => x.metric === metric)) {
      rows.push([
        '',
        `${r.numerator} ÷ ${r.denominator}`,
        r.ratio == null ? '—' : `${r.ratio.toFixed(2)}×`,
        r.ratioCI ? `${r.ratioCI.low.toFixed(2)}× – ${r.ratioCI.high.toFixed(2)}×` : '—',
        r.p == null ? '' : `${formatP(r.p)}${r.significant ? '' : ' (not significant)'}`,
        '',
        '',
      ]);
    }
  }
  return textTable(header, rows);
}
