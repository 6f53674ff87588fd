import { parseGateKey, parsePercent } from '../scenario/gate-key.js';

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

/** Metrics where higher is better; everything else is a time, size or overhead. */
const HIGHER_IS_BETTER: readonly string[] = ['throughput', 'max_rate', 'density_max_instances', 'batch_throughput'];

/** Which way is better for a metric (its base name, without parameters). */
export function metricDirection(metric: string): Direction {
  return HIGHER_IS_BETTER.includes(metric) ? 'higher' : 'lower';
}

/**
 * Metrics that describe the harness or the host rather than the workload:
 * shown, but a change never fails the gate unless a threshold names them
 * explicitly (harness_exec_rtt is the harness's own docker exec / SSH cost;
 * memory_page_cache is reclaimable cache, not counted as overhead;
 * gpu_utilization is neither good nor bad by itself).
 */
export const INFORMATIONAL_METRICS: readonly string[] = ['harness_exec_rtt', 'memory_page_cache', 'gpu_utilization'];

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
