/**
 * Which way is "worse" for each metric, the default regression threshold of
 * each metric family, and parsing of gate threshold keys and values
 * ("startup.median: 10%"). Pure.
 *
 * A threshold is a relative change of the median in the metric's bad
 * direction: for a lower-is-better metric, 10 % means current median >
 * 1.10 × baseline median; for a higher-is-better metric, current median <
 * 0.90 × baseline median.
 */

export type Direction = 'lower' | 'higher';

/** Higher is better: throughput@…, max_rate@…, density_max_instances. Everything else is a time, size or overhead. */
export function metricDirection(metric: string): Direction {
  if (metric.startsWith('throughput@') || metric.startsWith('max_rate@') || metric === 'density_max_instances') return 'higher';
  return 'lower';
}

/**
 * Metrics that describe the harness or the host rather than the workload:
 * shown, but a change never fails the gate unless a threshold names them
 * explicitly (harness_exec_rtt is the harness's own docker exec / SSH cost;
 * memory_page_cache is reclaimable cache, not counted as overhead).
 */
export const INFORMATIONAL_METRICS: readonly string[] = ['harness_exec_rtt', 'memory_page_cache'];

/** Default thresholds, first matching family wins. Documented in `bench compare --help` and the README. */
export const DEFAULT_THRESHOLDS: ReadonlyArray<{ pattern: string; threshold: number; why: string }> = [
  { pattern: 'image_size', threshold: 0.05, why: 'sizes are deterministic; 5 %' },
  { pattern: 'snapshot_size', threshold: 0.05, why: 'sizes are deterministic; 5 %' },
  { pattern: 'network_rtt_*', threshold: 0.25, why: 'sub-millisecond round trips are noisy; 25 %' },
  { pattern: 'latency_*', threshold: 0.2, why: 'tail latencies are noisy; 20 %' },
  { pattern: 'density_p99@*', threshold: 0.2, why: 'tail latencies are noisy; 20 %' },
  { pattern: 'density_max_instances', threshold: 0.1, why: 'one instance fewer out of 10; 10 %' },
  { pattern: 'harness_exec_rtt', threshold: 0.25, why: 'harness cost (informational); 25 %' },
  { pattern: '*', threshold: 0.1, why: 'times, memory, throughput; 10 %' },
];

/** Families of metric names vmbench produces (for validating gate keys). */
const METRIC_FAMILY_RE =
  /^(startup|cold_start|image_size|harness_exec_rtt|phase_[a-z0-9_*]+|memory_[a-z0-9_*]+(@(load|ksm|\*))?|network_rtt_[a-z0-9*]+|latency_p[0-9.*]+@[a-z0-9=.*<>]+|latency_\*|throughput@[a-z0-9=.*]+|max_rate@[a-z0-9=.*<>]+|density_max_instances|density_marginal_memory|density_memory@[a-z0-9=*]+|density_p99@[a-z0-9=*]+|density_\*|snapshot_[a-z0-9_*]+|\*)$/;

/** The statistic a gate key names; only the median is compared. */
export const GATE_STATISTICS = ['median'] as const;

export interface ParsedGateKey {
  /** Metric name or pattern (`*` matches any run of characters). */
  pattern: string;
  statistic: 'median';
}

/** "startup.median" | "startup" | "throughput@*" → pattern + statistic; a string saying what is wrong otherwise. */
export function parseGateKey(key: string): ParsedGateKey | string {
  let pattern = key;
  const dot = key.lastIndexOf('.');
  if (dot > 0 && /^[a-z][a-z0-9]*$/.test(key.slice(dot + 1))) {
    const stat = key.slice(dot + 1);
    if (!(GATE_STATISTICS as readonly string[]).includes(stat)) {
      return `expected the statistic after "." to be ${GATE_STATISTICS.map((s) => `"${s}"`).join(', ')}, got "${stat}" (e.g. "startup.median")`;
    }
    pattern = key.slice(0, dot);
  }
  if (!METRIC_FAMILY_RE.test(pattern)) {
    return `expected a vmbench metric name or pattern such as "startup.median", "cold_start", "phase_*", "memory_host", "throughput@*", "latency_p99@c=4", got "${key}"`;
  }
  return { pattern, statistic: 'median' };
}

/** "10%" → 0.1, "2.5 %" → 0.025; a string saying what is wrong otherwise. */
export function parsePercent(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (!m) return `expected a percentage such as "10%", got "${text}"`;
  const value = Number(m[1]) / 100;
  if (!(value > 0)) return `expected a percentage above 0%, got "${text}"`;
  if (value > 10) return `expected a percentage of at most 1000%, got "${text}"`;
  return value;
}

/** Glob with `*` only. */
export function matchesPattern(pattern: string, metric: string): boolean {
  if (!pattern.includes('*')) return pattern === metric;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(metric);
}

/** Configured thresholds: metric pattern → fraction. Exact names beat patterns; among patterns the longest wins. */
export type ThresholdMap = Record<string, number>;

export interface ResolvedThreshold {
  threshold: number;
  /** "scenario gate: startup.median", "--threshold", "default (times, memory…)" */
  source: string;
  /** Whether a regression of this metric fails the gate. */
  gated: boolean;
}

function bestMatch(map: ThresholdMap, metric: string): [string, number] | undefined {
  let best: [string, number] | undefined;
  for (const [pattern, value] of Object.entries(map)) {
    if (!matchesPattern(pattern, metric)) continue;
    const exact = !pattern.includes('*');
    if (exact) return [pattern, value];
    if (!best || pattern.length > best[0].length) best = [pattern, value];
  }
  return best;
}

/**
 * Threshold for `metric`: CLI flags (`cli`) over the scenario's gate block
 * (`scenario`) over the defaults.
 */
export function resolveThreshold(metric: string, scenario: ThresholdMap = {}, cli: ThresholdMap = {}): ResolvedThreshold {
  const informational = INFORMATIONAL_METRICS.includes(metric);
  const fromCli = bestMatch(cli, metric);
  if (fromCli) return { threshold: fromCli[1], source: `--threshold ${fromCli[0]}`, gated: true };
  const fromScenario = bestMatch(scenario, metric);
  if (fromScenario) return { threshold: fromScenario[1], source: `gate: ${fromScenario[0]}`, gated: true };
  const def = DEFAULT_THRESHOLDS.find((d) => matchesPattern(d.pattern, metric))!;
  return { threshold: def.threshold, source: informational ? 'default (informational, not gated)' : 'default', gated: !informational };
}

/** "startup.median=10%" (a CLI flag) → [pattern, fraction]; a string saying what is wrong otherwise. */
export function parseThresholdFlag(text: string): [string, number] | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `expected METRIC=PERCENT such as "startup.median=10%", got "${text}"`;
  const parsed = parseGateKey(text.slice(0, eq).trim());
  if (typeof parsed === 'string') return parsed;
  const v = parsePercent(text.slice(eq + 1));
  if (typeof v === 'string') return v;
  return [parsed.pattern, v];
}
