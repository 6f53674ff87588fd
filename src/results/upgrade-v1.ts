import type { MetricSummary, RatioRow, RunRecord } from './run-record.js';
import type { Sample, SampleParams } from './sample.js';

/**
 * Reading runs written with schema version 1, where a measurement's
 * parameters were part of the metric name ("throughput@c=4",
 * "density_p99@n=3", "memory_host@load", "max_rate@p99<=500ms"). This is the
 * one place such a name is ever taken apart: version 2 records carry the
 * parameters as data, and every display name is derived from them.
 */

const SUFFIXES: ReadonlyArray<[RegExp, (m: RegExpExecArray) => SampleParams]> = [
  [/^(load|ksm)$/, (m) => ({ phase: m[1]! })],
  [/^c=(\d+)$/, (m) => ({ connections: Number(m[1]) })],
  [/^r=(\d+(?:\.\d+)?)$/, (m) => ({ rate: Number(m[1]) })],
  [/^n=(\d+)$/, (m) => ({ instances: Number(m[1]) })],
  [/^p99<=(\d+(?:\.\d+)?)ms$/, (m) => ({ slo_p99_ms: Number(m[1]) })],
];

/** A version-1 metric name → base metric and parameters (a name it does not know stays whole). */
export function splitV1MetricName(name: string): { metric: string; params?: SampleParams } {
  const at = name.indexOf('@');
  if (at < 0) return { metric: name };
  const suffix = name.slice(at + 1);
  for (const [re, params] of SUFFIXES) {
    const m = re.exec(suffix);
    if (m) return { metric: name.slice(0, at), params: params(m) };
  }
  return { metric: name };
}

export function upgradeV1Sample(s: Sample): Sample {
  const { metric, params } = splitV1MetricName(s.metric);
  return params ? { ...s, metric, params } : s;
}

function upgradeRow<T extends MetricSummary | RatioRow>(row: T): T {
  const { metric, params } = splitV1MetricName(row.metric);
  return { ...row, base: metric, ...(params ? { params } : {}) };
}

/** A version-1 record as version 2: summaries and ratios gain base + params; no timing. */
export function upgradeV1Record(record: RunRecord): RunRecord {
  return {
    ...record,
    summaries: record.summaries.map(upgradeRow),
    ratios: record.ratios.map(upgradeRow),
  };
}
