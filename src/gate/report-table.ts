/**
 * The comparison as cells (shared by the terminal table and the Markdown
 * summary) and as the human table printed by `bench compare`. Pure.
 */
import { formatValue, textTable } from '../report/terminal-table.js';
import type { Comparison, ComparisonRow } from './compare.js';
import { fmtP } from './compare.js';
import type { Sensitivity } from './sensitivity.js';

/** The table's header; the sensitivity columns name the power and the target change. */
export function comparisonHeader(c: Pick<Comparison, 'power' | 'target'>): string[] {
  return [
    'metric',
    'platform',
    'baseline',
    'current',
    'change (95% CI)',
    'p (adj.)',
    'threshold',
    `MDC (${Math.round(c.power * 100)}% power)`,
    `to detect ${Math.round(c.target * 100)}%`,
    'verdict',
  ];
}

/** A relative change (0.123) as "+12.3%", signed either way. */
export function signedPercent(change: number): string {
  const x = change * 100;
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
}

/** The change a ratio of medians stands for (1.123 → "+12.3%"). */
function signedPct(ratio: number): string {
  return signedPercent(ratio - 1);
}

/** A change in the bad direction as the threshold column writes it: +12% (slower) or −12% (less throughput). */
function badWay(r: Pick<ComparisonRow, 'direction'>, fraction: number, digits = 0): string {
  return `${r.direction === 'lower' ? '+' : '−'}${(fraction * 100).toFixed(digits)}%`;
}

/** "12.3%" of the MDC, marked when it ignores run-to-run drift. */
export function mdcText(r: ComparisonRow): string {
  const s = r.sensitivity;
  if (!s) return '—';
  return `${badWay(r, s.mdc, 1)}${s.basis === 'within-run only' ? ' (within-run only)' : ''}`;
}

/** What the target change would take: "✓", "8 baseline runs", "10 baseline + 3 runs/night", "n=40/run", or why it is out of reach. */
export function neededText(s: Sensitivity | null, threshold: number): string {
  if (!s) return '—';
  if (s.reached) return '✓';
  if (s.target <= threshold) return `needs threshold < ${Math.round(s.target * 100)}%`;
  if (s.needed.baselineRuns !== null) return `${s.needed.baselineRuns} baseline runs`;
  if (s.combined) {
    const d = s.combined.design;
    return `${d.baselineRuns} baseline + ${d.currentRuns} run${d.currentRuns === 1 ? '' : 's'}/night${d.samplesPerRun !== s.design.samplesPerRun ? `, n=${d.samplesPerRun}/run` : ''}`;
  }
  if (s.needed.samplesPerRun !== null) return `n=${s.needed.samplesPerRun}/run`;
  if (s.needed.currentRuns !== null) return `${s.needed.currentRuns} runs/night`;
  return s.basis === 'within-run only' ? 'unknown (1 baseline run)' : 'out of reach';
}

export function comparisonCells(r: ComparisonRow): string[] {
  const side = (s: ComparisonRow['baseline']) => {
    if (!s) return '—';
    const runs = r.test === 'samples' ? '' : `${s.runs} run${s.runs === 1 ? '' : 's'}, `;
    return `${formatValue(s.center, r.unit)} (${runs}n=${s.n})`;
  };
  const change =
    r.ratio === null ? '—' : `${signedPct(r.ratio)}${r.ratioCI ? ` (${signedPct(r.ratioCI.low)} … ${signedPct(r.ratioCI.high)})` : ''}`;
  const p = r.p === null ? '—' : r.pAdjusted !== null && r.pAdjusted !== r.p ? `${fmtP(r.p)} (${fmtP(r.pAdjusted)})` : fmtP(r.p);
  const thr = `${badWay(r, r.effectiveThreshold)}${r.noiseFloor !== null && r.effectiveThreshold > r.threshold ? ' (noise)' : ''}${r.gated ? '' : ' (info)'}`;
  return [
    r.metric,
    r.platform,
    side(r.baseline),
    side(r.current),
    change,
    p,
    thr,
    mdcText(r),
    neededText(r.sensitivity, r.effectiveThreshold),
    r.fails ? `✗ ${r.verdict}` : r.verdict,
  ];
}

/** "5 baseline runs vs 1 current run". */
export function designText(c: Pick<Comparison, 'baselineRuns' | 'currentRuns'>): string {
  const runs = (k: number) => `${k} run${k === 1 ? '' : 's'}`;
  return `${runs(c.baselineRuns)} baseline vs ${runs(c.currentRuns)} current`;
}

/** One line saying what the gate decided. */
export function gateHeadline(c: Comparison): string {
  if (c.regressions.length === 0) {
    return `no regression (${c.rows.length} metric × platform rows, ${designText(c)}, α = ${c.alpha}, ${c.correction === 'holm' ? 'Holm-corrected' : 'uncorrected'})`;
  }
  return `REGRESSION: ${c.regressions.map((r) => `${r.metric} on ${r.platform} (${r.ratio !== null ? signedPct(r.ratio) : '?'})`).join(', ')}`;
}

/** How to read the MDC columns (printed under the table). */
export function sensitivityLegend(c: Comparison): string {
  return (
    `MDC = the smallest change in the bad direction this gate catches with ${Math.round(c.power * 100)} % probability ` +
    `(α = ${c.alpha}${c.correction === 'holm' ? ' split over the gated metrics (Holm)' : ''}, threshold included, for the baseline at hand); ` +
    `"to detect ${Math.round(c.target * 100)}%" = what would bring the MDC to ${Math.round(c.target * 100)} %, one change at a time ` +
    '(more baseline runs, more current runs per night, or more samples per run). "within-run only" = one baseline run and no noise profile: ' +
    'the run-to-run drift is unknown and the MDC optimistic.'
  );
}

export function renderComparisonTable(c: Comparison): string {
  return textTable(comparisonHeader(c), c.rows.map(comparisonCells));
}
