import type { StoredRun } from '../../results/read-run.js';
import { markdownCell } from '../markdown-cell.js';
import { summaryRows } from '../summary-table.js';

/**
 * The summary table as Markdown (hyperfine-style `--export-markdown`): metric
 * × substrate with median, 95 % CI, min – max, n, ratio to the reference with
 * its CI and the significance. Pure.
 */
export function serializeMarkdown(runs: readonly StoredRun[], reference?: string): string {
  const several = runs.length > 1;
  const head = [...(several ? ['run'] : []), 'metric', 'substrate', 'n', 'median', '95 % CI of median', 'min – max', 'ratio to reference', '95 % CI of ratio', 'significance'];
  const align = head.map((h) => (['n', 'median', '95 % CI of median', 'min – max', 'ratio to reference', '95 % CI of ratio'].includes(h) ? '---:' : '---'));
  const lines = [`| ${head.join(' | ')} |`, `|${align.join('|')}|`];
  for (const r of summaryRows(runs, reference)) {
    const cells = [...(several ? [r.runId] : []), r.metric, r.substrate, r.n, r.median, r.ci95, r.spread, r.ratio || '—', r.ratioCI || '—', r.significance || '—'];
    lines.push(`| ${cells.map((c) => markdownCell(String(c))).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
