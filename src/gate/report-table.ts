/**
 * The comparison as cells (shared by the terminal table and the Markdown
 * summary) and as the human table printed by `bench compare`. Pure.
 */
import { formatValue, textTable } from '../report/terminal-table.js';
import type { Comparison, ComparisonRow } from './compare.js';
import { fmtP } from './compare.js';

export const COMPARISON_HEADER = ['metric', 'platform', 'baseline', 'current', 'change (95% CI)', 'p (adj.)', 'threshold', 'verdict'];

/** A relative change (0.123) as "+12.3%", signed either way. */
export function signedPercent(change: number): string {
  const x = change * 100;
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
}

/** The change a ratio of medians stands for (1.123 → "+12.3%"). */
function signedPct(ratio: number): string {
  return signedPercent(ratio - 1);
}

export function comparisonCells(r: ComparisonRow): string[] {
  const side = (s: ComparisonRow['baseline']) => (s ? `${formatValue(s.median, r.unit)} (n=${s.n})` : '—');
  const change =
    r.ratio === null ? '—' : `${signedPct(r.ratio)}${r.ratioCI ? ` (${signedPct(r.ratioCI.low)} … ${signedPct(r.ratioCI.high)})` : ''}`;
  const p = r.p === null ? '—' : r.pAdjusted !== null && r.pAdjusted !== r.p ? `${fmtP(r.p)} (${fmtP(r.pAdjusted)})` : fmtP(r.p);
  const thr = `${r.direction === 'lower' ? '+' : '−'}${(r.effectiveThreshold * 100).toFixed(0)}%${r.noiseFloor !== null && r.noiseFloor > r.threshold ? ' (noise)' : ''}${r.gated ? '' : ' (info)'}`;
  return [r.metric, r.platform, side(r.baseline), side(r.current), change, p, thr, r.fails ? `✗ ${r.verdict}` : r.verdict];
}

/** One line saying what the gate decided. */
export function gateHeadline(c: Comparison): string {
  if (c.regressions.length === 0) return `no regression (${c.rows.length} metric × platform rows, α = ${c.alpha}, ${c.correction === 'holm' ? 'Holm-corrected' : 'uncorrected'})`;
  return `REGRESSION: ${c.regressions.map((r) => `${r.metric} on ${r.platform} (${r.ratio !== null ? signedPct(r.ratio) : '?'})`).join(', ')}`;
}

export function renderComparisonTable(c: Comparison): string {
  return textTable(COMPARISON_HEADER, c.rows.map(comparisonCells));
}
