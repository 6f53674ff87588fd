import type { MetricSummary, RatioRow } from '../runner/run-record.js';

/** Milliseconds as a human figure with its unit: 87.3 ms, 4.21 s, 2.1 min. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function formatValue(v: number, unit: string): string {
  return unit === 'ms' ? formatMs(v) : `${Number(v.toPrecision(4))} ${unit}`;
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

/**
 * The end-of-run table: one row per metric, one column per platform with
 * "median [min – max] n=…", then each VM ÷ container ratio of medians. Pure.
 */
export function renderSummaryTable(summaries: readonly MetricSummary[], ratios: readonly RatioRow[]): string {
  const platforms: Array<{ name: string; kind: string }> = [];
  for (const s of summaries) {
    if (!platforms.some((p) => p.name === s.platform)) platforms.push({ name: s.platform, kind: s.kind });
  }
  const ratioCols = [...new Set(ratios.map((r) => `${r.numerator} ÷ ${r.denominator}`))];
  const header = ['metric', ...platforms.map((p) => `${p.name} (${p.kind})`), ...ratioCols];
  const metrics = [...new Set(summaries.map((s) => s.metric))];
  const rows = metrics.map((metric) => {
    const cells = [metric];
    for (const p of platforms) {
      const s = summaries.find((x) => x.metric === metric && x.platform === p.name);
      const sum = s?.summary;
      cells.push(
        !sum || !s
          ? '—'
          : sum.n === 1
            ? `${formatValue(sum.median, s.unit)} n=1`
            : `${formatValue(sum.median, s.unit)} [${formatValue(sum.min, s.unit)} – ${formatValue(sum.max, s.unit)}] n=${sum.n}`,
      );
    }
    for (const col of ratioCols) {
      const r = ratios.find((x) => x.metric === metric && `${x.numerator} ÷ ${x.denominator}` === col);
      cells.push(r?.ratio == null ? '—' : `${r.ratio.toFixed(2)}×`);
    }
    return cells;
  });
  return textTable(header, rows);
}
