/**
 * Gate threshold keys and values as a scenario's `gate.thresholds` block (and
 * `bench compare --threshold`) write them: "startup.median: 10%". Pure; the
 * gate itself (src/gate/) uses the parsed form.
 */

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
