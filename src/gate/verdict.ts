/**
 * A row's verdict from its change, test and threshold. Pure.
 *
 *  - regression: significant AND the centre moved in the bad direction by more
 *    than the threshold → fails the gate (unless the metric is informational);
 *  - improvement: significant AND moved in the good direction by more than it;
 *  - change within threshold: significant but smaller than the threshold →
 *    reported, never fails;
 *  - no significant change;
 *  - not testable: fewer than 2 samples on a side of the samples test (memory,
 *    throughput, image size … are one reading per run) and no noise floor —
 *    shown, never fails; a baseline of ≥ 2 runs makes them testable;
 *  - beyond noise / within noise: n = 1 but a noise floor exists: the change
 *    is compared with max(threshold, noise floor) alone — no significance is
 *    claimed; beyond it in the bad direction fails the gate;
 *  - missing: measured on one side only.
 */
import type { Correction } from './multiple-testing.js';
import type { Direction } from './thresholds.js';

/** How a row was tested: run-level t-test (runs, or one run + a noise profile's spread), or the within-run samples test. */
export type GateTest = 'runs' | 'noise profile' | 'samples';

/** The part of a comparison row (compare.ts) that a verdict reads and writes. */
export interface DecidableRow {
  baseline: { n: number; runs: number } | null;
  current: { n: number; runs: number } | null;
  test: GateTest;
  ratio: number | null;
  worsening: number | null;
  p: number | null;
  pAdjusted: number | null;
  df: number | null;
  degenerate: boolean;
  threshold: number;
  noiseFloor: number | null;
  effectiveThreshold: number;
  gated: boolean;
  significant: boolean;
  verdict: Verdict;
  fails: boolean;
  note: string;
}

export type Verdict =
  | 'regression'
  | 'improvement'
  | 'change within threshold'
  | 'no significant change'
  | 'not testable (n=1)'
  | 'beyond noise (n=1)'
  | 'within noise (n=1)'
  | 'missing';

export function worseningOf(ratio: number, direction: Direction): number {
  return direction === 'lower' ? ratio - 1 : 1 - ratio;
}

export function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** What the test was, for the note: "run-level t-test, 5 vs 1 runs, df 4". */
function testText(r: DecidableRow): string {
  const runs = `${r.baseline!.runs} vs ${r.current!.runs} run${r.current!.runs === 1 ? '' : 's'}`;
  if (r.test === 'runs') return `run-level t-test on run medians, ${runs}, df ${r.df}`;
  if (r.test === 'noise profile') return `run-level t-test, ${runs}, run-to-run SD from the noise profile (df ${r.df})`;
  return 'within-run Mann–Whitney (one baseline run)';
}

export function decide(r: DecidableRow, alpha: number, correction: Correction): void {
  if (r.baseline === null || r.current === null) return;
  if (r.ratio === null || r.worsening === null) {
    r.verdict = r.p === null ? 'not testable (n=1)' : 'no significant change';
    r.note = 'baseline is 0: no relative change';
    return;
  }
  const thr = r.effectiveThreshold;
  const thrText = r.noiseFloor !== null && r.effectiveThreshold > r.threshold ? `${pct(thr)} (noise floor)` : pct(thr);
  if (r.p === null) {
    // One reading on a side: no test can say anything. Only a measured noise floor gives a yardstick.
    if (r.noiseFloor === null) {
      r.verdict = 'not testable (n=1)';
      r.note = `n = ${r.baseline.n} vs ${r.current.n}: no significance test possible; save a baseline of ≥ 2 runs (or run calibrate-noise) to gate it`;
      return;
    }
    if (r.worsening > thr) {
      r.verdict = 'beyond noise (n=1)';
      r.fails = r.gated;
      r.note = `${pct(r.worsening)} worse, beyond max(threshold, noise floor) = ${thrText}; no significance test (n=1)`;
    } else if (-r.worsening > thr) {
      r.verdict = 'beyond noise (n=1)';
      r.note = `${pct(-r.worsening)} better, beyond ${thrText}; no significance test (n=1)`;
    } else {
      r.verdict = 'within noise (n=1)';
      r.note = `change within max(threshold, noise floor) = ${thrText}; no significance test (n=1)`;
    }
    return;
  }
  r.significant = r.pAdjusted! < alpha;
  const adjusted = correction === 'holm' && r.gated && !r.degenerate;
  const pText = `${testText(r)}: ${adjusted ? `Holm-adjusted p = ${fmtP(r.pAdjusted!)}` : `p = ${fmtP(r.p)}`}${r.degenerate ? ' (no spread between runs)' : ''}`;
  if (!r.significant) {
    r.verdict = 'no significant change';
    r.note = `${pText} ≥ α = ${alpha}`;
    return;
  }
  if (r.worsening > thr) {
    r.verdict = 'regression';
    r.fails = r.gated;
    r.note = `${pct(r.worsening)} worse (> ${thrText}), ${pText}${r.gated ? '' : '; informational metric, not gated'}`;
  } else if (-r.worsening > thr) {
    r.verdict = 'improvement';
    r.note = `${pct(-r.worsening)} better (> ${thrText}), ${pText}`;
  } else {
    r.verdict = 'change within threshold';
    r.note = `significant (${pText}) but ${pct(Math.abs(r.worsening))} ${r.worsening > 0 ? 'worse' : 'better'} ≤ threshold ${thrText}: reported, not failed`;
  }
}
