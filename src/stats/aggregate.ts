import type { Sample } from '../results/sample.js';
import type { MetricSummary, RatioRow } from '../runner/run-record.js';
import { medianRatio, summarize } from './summary.js';

/** Groups measured (non-warmup) samples by metric × platform and summarises each group. Pure. */
export function summarizeSamples(samples: readonly Sample[]): MetricSummary[] {
  const groups = new Map<string, { first: Sample; values: number[] }>();
  for (const s of samples) {
    if (s.warmup) continue;
    const key = `${s.metric}\u0000${s.platform}`;
    const g = groups.get(key);
    if (g) g.values.push(s.value);
    else groups.set(key, { first: s, values: [s.value] });
  }
  return [...groups.values()].map(({ first, values }) => ({
    metric: first.metric,
    platform: first.platform,
    kind: first.kind,
    unit: first.unit,
    summary: summarize(values),
  }));
}

/**
 * For every metric, each non-container platform's median divided by the first
 * Docker platform's median (the "VM ÷ container" ratio).
 */
export function containerRatios(rows: readonly MetricSummary[]): RatioRow[] {
  const out: RatioRow[] = [];
  const metrics = [...new Set(rows.map((r) => r.metric))];
  for (const metric of metrics) {
    const ofMetric = rows.filter((r) => r.metric === metric);
    const base = ofMetric.find((r) => r.kind === 'docker');
    if (!base) continue;
    for (const r of ofMetric) {
      if (r.kind === 'docker') continue;
      out.push({ metric, numerator: r.platform, denominator: base.platform, ratio: medianRatio(r.summary, base.summary) });
    }
  }
  return out;
}
