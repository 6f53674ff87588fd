/**
 * The comparison as a Markdown summary (for $GITHUB_STEP_SUMMARY, PR
 * comments, the report artifact). Pure.
 */
import { markdownCell } from '../report/markdown-cell.js';
import type { Comparison } from './compare.js';
import { COMPARISON_HEADER, comparisonCells, gateHeadline } from './report-table.js';

export interface MarkdownContext {
  baselineLabel: string;
  currentLabel: string;
  warnings: readonly string[];
}

export function renderComparisonMarkdown(c: Comparison, ctx: MarkdownContext): string {
  const lines: string[] = [];
  lines.push(`## vmbench compare: ${c.regressions.length > 0 ? '❌' : '✅'} ${gateHeadline(c)}`, '');
  lines.push(`Baseline: \`${ctx.baselineLabel}\` · current: \`${ctx.currentLabel}\``, '');
  lines.push(`| ${COMPARISON_HEADER.join(' | ')} |`, `|${COMPARISON_HEADER.map(() => '---').join('|')}|`);
  for (const r of c.rows) lines.push(`| ${comparisonCells(r).map(markdownCell).join(' | ')} |`);
  lines.push('');
  const notes = c.rows.filter((r) => r.note && r.verdict !== 'no significant change');
  if (notes.length > 0) {
    lines.push('<details><summary>Notes</summary>', '');
    for (const r of notes) lines.push(`- **${r.metric}** (${r.platform}): ${r.verdict} — ${r.note}`);
    lines.push('', '</details>', '');
  }
  for (const w of ctx.warnings) lines.push(`> ⚠ ${w}`, '');
  lines.push(
    `Change = median(current) ÷ median(baseline) − 1 with a 95 % bootstrap CI; p = two-sided Mann–Whitney U on the raw samples` +
      `${c.correction === 'holm' ? ', Holm-adjusted across gated metrics' : ''}. A regression needs p < α = ${c.alpha} **and** a change beyond the threshold in the bad direction. ` +
      'Metrics with one reading per run (n = 1) cannot be tested; they are gated only against a measured noise floor (`bench calibrate-noise`).',
    '',
  );
  return lines.join('\n');
}
