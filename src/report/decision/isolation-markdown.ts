import { markdownCell } from '../markdown-cell.js';
import type { RunView } from '../run-view.js';
import { isolationTable } from '../isolation/facts-table.js';
import { neighborRows, syscallRows } from '../isolation/boundary-cost.js';

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.map(markdownCell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(markdownCell).join(' | ')} |`)];
}

/**
 * What isolation each substrate gives and what it costs: the facts read
 * inside each instance, the system-call round trip, and the victim's
 * latency and throughput beside noisy neighbours. Empty when the run
 * measured none of it.
 */
export function isolationMarkdown(view: RunView): string[] {
  const out: string[] = [];
  const facts = isolationTable(view);
  if (facts) out.push('Facts read inside one instance of each substrate:', '', ...markdownTable(facts.header, facts.rows), '');
  const sys = syscallRows(view);
  if (sys.length) {
    out.push(`The cost of the boundary: µs per system call, timed in-process by the workload inside the instance (ratio to ${view.reference ?? 'the reference'} with its 95 % bootstrap CI):`, '');
    out.push(...markdownTable(['substrate', 'call', 'median', '95 % CI of median', 'n', `÷ ${view.reference ?? 'reference'}`], sys.map((r) => [r.platform, r.call, r.median, r.ci95, String(r.n), r.ratio])), '');
  }
  const nb = neighborRows(view);
  if (nb.length) {
    out.push('Noisy neighbours: a victim instance at a fixed open-loop rate, alone (K = 0) and with K neighbours of the same substrate saturating their CPU; medians over n windows, inflation and loss against K = 0 with 95 % bootstrap CIs:', '');
    out.push(...markdownTable(['substrate', 'K', 'n', 'p50', 'p99', 'throughput', 'p50 inflation', 'p99 inflation', 'throughput loss'], nb.map((r) => [r.platform, String(r.neighbors), String(r.n), r.p50, r.p99, r.throughput, r.p50Inflation, r.p99Inflation, r.throughputLoss])), '');
  }
  return out;
}
