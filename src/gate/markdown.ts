/**
 * The comparison as a Markdown summary (for $GITHUB_STEP_SUMMARY, PR
 * comments, the report artifact). Pure.
 */
import { markdownCell } from '../report/markdown-cell.js';
import type { Comparison } from './compare.js';
import { comparisonCells, comparisonHeader, designText, gateHeadline, sensitivityLegend } from './report-table.js';

export interface MarkdownContext {
  baselineLabel: string;
  currentLabel: string;
  warnings: readonly string[];
}

export function renderComparisonMarkdown(c: Comparison, ctx: MarkdownContext): string {
  const lines: string[] = [];
  lines.push(`## vmbench compare: ${c.regressions.length > 0 ? '❌' : '✅'} ${gateHeadline(c)}`, '');
  lines.push(`Baseline: \`${ctx.baselineLabel}\` · current: \`${ctx.currentLabel}\` (${designText(c)})`, '');
  const header = comparisonHeader(c);
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const r of c.rows) lines.push(`| ${comparisonCells(r).map(markdownCell).join(' | ')} |`);
  lines.push('');
  const notes = c.rows.filter((r) => r.note && r.verdict !== 'no significant change');
  if (notes.length > 0) {
    lines.push('<details><summary>Notes</summary>', '');
    for (const r of notes) lines.push(`- **${r.metric}** (${r.platform}): ${r.verdict} — ${r.note}`);
    lines.push('', '</details>', '');
  }
  for (const w of [...c.warnings, ...ctx.warnings]) lines.push(`> ⚠ ${w}`, '');
  lines.push(
    'Change = ratio of the centres (geometric mean of the run medians for run-level tests) − 1 with a 95 % CI. ' +
      'With ≥ 2 baseline runs, p comes from a run-level t-test on the log run medians (runs, not samples, are the unit of replication, so run-to-run drift counts as noise); ' +
      'with one baseline run it uses the run-to-run SD of a noise profile (`bench calibrate-noise`) where one has the metric, else a two-sided Mann–Whitney U on the raw samples' +
      `${c.correction === 'holm' ? '; Holm-adjusted across gated metrics' : ''}. A regression needs p < α = ${c.alpha} **and** a change beyond the threshold in the bad direction.`,
    '',
    sensitivityLegend(c),
    '',
  );
  return lines.join('\n');
}
