/**
 * github-action-benchmark's custom formats ("customSmallerIsBetter" and
 * "customBiggerIsBetter"): a JSON array of { name, unit, value, range?, extra? }
 * per tool, so one file per direction. Pure.
 */
import { round } from '../report/format.js';
import type { Comparison } from './compare.js';
import { fmtP } from './compare.js';

export interface GithubBenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

export interface GithubBenchmarkFiles {
  customSmallerIsBetter: GithubBenchmarkEntry[];
  customBiggerIsBetter: GithubBenchmarkEntry[];
}

/** One entry per metric × platform measured in the current run: its median, the bootstrap CI of the change as range. */
export function githubBenchmarkEntries(comparison: Comparison): GithubBenchmarkFiles {
  const out: GithubBenchmarkFiles = { customSmallerIsBetter: [], customBiggerIsBetter: [] };
  for (const r of comparison.rows) {
    if (!r.current) continue;
    const entry: GithubBenchmarkEntry = { name: `${r.metric} (${r.platform})`, unit: r.unit, value: round(r.current.median) };
    if (r.ratioCI && r.baseline) {
      // ± half the CI width of the change, in the metric's unit.
      const half = ((r.ratioCI.high - r.ratioCI.low) / 2) * r.baseline.center;
      entry.range = `± ${round(half)}`;
    }
    const parts = [`n=${r.current.n}`, `verdict: ${r.verdict}`];
    if (r.baseline) parts.push(`baseline ${round(r.baseline.center)} ${r.unit} (runs=${r.baseline.runs}, n=${r.baseline.n})`);
    if (r.sensitivity) parts.push(`MDC ${(r.sensitivity.mdc * 100).toFixed(1)}%`);
    if (r.ratio !== null) parts.push(`ratio ${r.ratio.toFixed(3)}`);
    if (r.p !== null) parts.push(`p=${fmtP(r.p)}`);
    entry.extra = parts.join('; ');
    (r.direction === 'higher' ? out.customBiggerIsBetter : out.customSmallerIsBetter).push(entry);
  }
  return out;
}
