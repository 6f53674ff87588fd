import type { StoredRun } from '../../results/read-run.js';
import type { MetricSummary, RatioRow } from '../../results/run-record.js';
import { sampleLabel } from '../../results/sample.js';
import { fmt, fmtP, fmtRatio } from '../format.js';
import type { RunView } from '../run-view.js';
import { median } from '../series.js';

/** "536 ms (n = 5, 95 % CI 500 ms – 732 ms)" — a measured value as a reader should see it. */
export function describeValue(s: MetricSummary | null): string {
  const sum = s?.summary;
  if (!s || !sum) return 'not measured';
  const spread = sum.ci95 ? `, 95 % CI ${fmt(sum.ci95.low, s.unit)} – ${fmt(sum.ci95.high, s.unit)}` : sum.n === 1 ? ', single reading' : '';
  return `${fmt(sum.median, s.unit)} (n = ${sum.n}${spread})`;
}

/**
 * numerator ÷ denominator for a series, from the view's ratios: the row
 * itself, or the inverse of the opposite row (a percentile interval inverts
 * bound for bound), or null.
 */
export function ratioOf(view: RunView, metric: string, numerator: string, denominator: string): RatioRow | null {
  const direct = view.ratios.find((r) => r.metric === metric && r.numerator === numerator && r.denominator === denominator);
  if (direct) return direct;
  const opposite = view.ratios.find((r) => r.metric === metric && r.numerator === denominator && r.denominator === numerator);
  if (!opposite) return null;
  return {
    ...opposite,
    numerator,
    denominator,
    ratio: opposite.ratio ? 1 / opposite.ratio : null,
    ratioCI: opposite.ratioCI && opposite.ratioCI.low > 0 ? { low: 1 / opposite.ratioCI.high, high: 1 / opposite.ratioCI.low } : null,
    cliffsDelta: opposite.cliffsDelta == null ? null : -opposite.cliffsDelta,
  };
}

/** "vm ÷ container = 88.74× (95 % CI 65.05× – 100×), Mann–Whitney p = 0.008"; from the medians when there is no row. */
export function ratioText(r: RatioRow | null, a: number, b: number, label: string): string {
  if (r?.ratio != null) {
    return `${label} = ${fmtRatio(r.ratio)}${r.ratioCI ? ` (95 % CI ${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)})` : ''}${r.p != null ? `, Mann–Whitney ${fmtP(r.p)}` : ''}`;
  }
  return b === 0 ? `${label} undefined (${label.split(' ÷ ')[1] ?? 'reference'} value 0)` : `${label} = ${fmtRatio(a / b)}`;
}

/** Median of the measured samples of one series on one platform. */
export function seriesMedian(run: StoredRun, platform: string, metric: string): number | null {
  return median(run.samples.filter((x) => !x.warmup && x.platform === platform && sampleLabel(x) === metric).map((x) => x.value));
}
