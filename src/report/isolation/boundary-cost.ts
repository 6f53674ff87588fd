import type { StoredRun } from '../../results/read-run.js';
import { compareGroups } from '../../stats/describe.js';
import { fmt, fmtRatio } from '../format.js';
import { ratioToReference, type RunView } from '../run-view.js';
import { median } from '../series.js';

/** One row of the system-call cost table: a call on a substrate, with its ratio to the reference. */
export interface SyscallRow {
  platform: string;
  call: string;
  median: string;
  ci95: string;
  n: number;
  ratio: string;
}

/** µs per system call, per substrate and call, with the ratio to the reference and its bootstrap CI. Pure. */
export function syscallRows(view: RunView): SyscallRow[] {
  const rows: SyscallRow[] = [];
  for (const s of view.substrates) {
    for (const x of view.run.record.summaries.filter((y) => y.base === 'syscall' && y.platform === s.platform && y.summary)) {
      const sum = x.summary!;
      const r = s.platform === view.reference ? null : ratioToReference(view, x.metric, s.platform);
      rows.push({
        platform: s.platform,
        call: String(x.params?.call ?? '?'),
        median: fmt(sum.median, x.unit),
        ci95: sum.ci95 ? `${fmt(sum.ci95.low, x.unit)} – ${fmt(sum.ci95.high, x.unit)}` : '—',
        n: sum.n,
        ratio: s.platform === view.reference ? 'reference' : r?.ratio != null ? `${fmtRatio(r.ratio)}${r.ratioCI ? ` (${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)})` : ''}` : '—',
      });
    }
  }
  return rows;
}

/** One row of the noisy-neighbour table: a substrate with K neighbours against itself alone (K = 0). */
export interface NeighborRow {
  platform: string;
  neighbors: number;
  n: number;
  p50: string;
  p99: string;
  throughput: string;
  /** p50(K) ÷ p50(0) with its bootstrap CI ("—" for K = 0). */
  p50Inflation: string;
  p99Inflation: string;
  /** 1 − throughput(K) ÷ throughput(0), as a percentage with its CI. */
  throughputLoss: string;
}

function valuesAt(run: StoredRun, platform: string, metric: string, k: number): number[] {
  return run.samples.filter((x) => !x.warmup && x.platform === platform && x.metric === metric && x.params?.neighbors === k).map((x) => x.value);
}

/** Why a window has no latency: what became of the victim's requests there (from its throughput samples). */
function noneCompleted(run: StoredRun, platform: string, k: number): string | null {
  const ws = run.samples.filter((x) => !x.warmup && x.platform === platform && x.metric === 'neighbor_throughput' && x.params?.neighbors === k);
  if (!ws.length) return null;
  const sum = (key: string) => ws.reduce((a, x) => a + (typeof x.metadata?.[key] === 'number' ? (x.metadata[key] as number) : 0), 0);
  const timeouts = sum('timeouts');
  const errors = sum('errors');
  return `none completed (${timeouts} timed out, ${errors} failed)`;
}

/** The neighbour counts a substrate was measured at, ascending. */
export function neighborCounts(run: StoredRun, platform: string): number[] {
  const ks = new Set<number>();
  // A window where no request completed has a throughput sample (0 req/s) and no latency: it is still a row.
  for (const x of run.samples) {
    if (x.platform === platform && (x.metric === 'neighbor_p99' || x.metric === 'neighbor_throughput') && typeof x.params?.neighbors === 'number') ks.add(x.params.neighbors);
  }
  return [...ks].sort((a, b) => a - b);
}

/**
 * The victim's figures per substrate and neighbour count K, with the
 * inflation of p50 and p99 and the loss of throughput against the victim
 * alone (K = 0): ratios of medians with bootstrap CIs over the windows
 * (seeded by the run's seed). Pure.
 */
export function neighborRows(view: RunView): NeighborRow[] {
  const run = view.run;
  const seed = run.record.plan.seed;
  const rows: NeighborRow[] = [];
  const ratioCell = (base: number[], at: number[]) => {
    if (!base.length || !at.length) return '—';
    const c = compareGroups(base, at, { seed });
    return c.ratio == null ? '—' : `${fmtRatio(c.ratio)}${c.ratioCI ? ` (${fmtRatio(c.ratioCI.low)} – ${fmtRatio(c.ratioCI.high)})` : ''}`;
  };
  const lossCell = (base: number[], at: number[]) => {
    if (!base.length || !at.length) return '—';
    const c = compareGroups(base, at, { seed });
    const pct = (r: number) => `${((1 - r) * 100).toFixed(1)} %`;
    return c.ratio == null ? '—' : `${pct(c.ratio)}${c.ratioCI ? ` (${pct(c.ratioCI.high)} – ${pct(c.ratioCI.low)})` : ''}`;
  };
  for (const s of view.substrates) {
    const ks = neighborCounts(run, s.platform);
    const alone = { p50: valuesAt(run, s.platform, 'neighbor_p50', 0), p99: valuesAt(run, s.platform, 'neighbor_p99', 0), tp: valuesAt(run, s.platform, 'neighbor_throughput', 0) };
    for (const k of ks) {
      const p50 = valuesAt(run, s.platform, 'neighbor_p50', k);
      const p99 = valuesAt(run, s.platform, 'neighbor_p99', k);
      const tp = valuesAt(run, s.platform, 'neighbor_throughput', k);
      const none = p99.length ? null : noneCompleted(run, s.platform, k);
      rows.push({
        platform: s.platform,
        neighbors: k,
        n: p99.length,
        p50: p50.length ? fmt(median(p50), 'ms') : (none ?? '—'),
        p99: p99.length ? fmt(median(p99), 'ms') : (none ?? '—'),
        throughput: tp.length ? fmt(median(tp), 'req/s') : '—',
        p50Inflation: k === 0 ? '—' : ratioCell(alone.p50, p50),
        p99Inflation: k === 0 ? '—' : ratioCell(alone.p99, p99),
        throughputLoss: k === 0 ? '—' : lossCell(alone.tp, tp),
      });
    }
  }
  return rows;
}
