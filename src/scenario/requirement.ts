/**
 * Hard requirements of a scenario's `decision.require` block, as people
 * write them, parsed into data the decision record checks each option
 * against. Pure.
 *
 *   isolation: own-kernel               the workload must not share the host's kernel
 *   cold_start_p95: <= 2s               a statistic of a metric, with a limit and its unit
 *   startup: < 1s                       no statistic: the median
 *   p99: <= 100ms at 20 req/s           latency p99 of the open-loop level at 20 req/s
 *   throughput: ">= 40req/s at 4 connections"
 *   density_max_instances: ">= 10"
 *
 * The key is `isolation`, or a metric (with an optional `_median`, `_p95`,
 * `_p5`, `_mean`, `_min` or `_max`; `p50` / `p99` are latency_p50 /
 * latency_p99); the value is a comparison, a number with a unit fitting the
 * metric, and for per-load metrics the load ("at 20 req/s", "at 4
 * connections", "at 2 neighbors").
 */
import { DURATION_UNITS, SIZE_UNITS } from './units.js';

export const ISOLATION_LEVELS = ['own-kernel', 'any'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

export const STATISTICS = ['median', 'p95', 'p5', 'mean', 'min', 'max'] as const;
export type Statistic = (typeof STATISTICS)[number];

export type Comparison = '<=' | '<' | '>=' | '>';

/** What a metric's values are measured in, and so which units a limit may be written in. */
type Dimension = 'duration' | 'microseconds' | 'size' | 'rate' | 'percent' | 'count';

const DIMENSIONS: Record<string, Dimension> = {
  startup: 'duration', cold_start: 'duration', network_rtt_p50: 'duration', network_rtt_p99: 'duration',
  snapshot_restore: 'duration', snapshot_fresh: 'duration', snapshot_take: 'duration', harness_exec_rtt: 'duration',
  latency_p50: 'duration', latency_p99: 'duration', neighbor_p50: 'duration', neighbor_p99: 'duration',
  image_size: 'size', memory_host: 'size', memory_workload_pss: 'size', memory_workload_rss: 'size', memory_overhead: 'size',
  snapshot_size: 'size', snapshot_restored_memory: 'size', density_marginal_memory: 'size',
  memory_overhead_pct: 'percent', density_max_instances: 'count',
  throughput: 'rate', neighbor_throughput: 'rate', syscall: 'microseconds',
};

/** Metrics measured per load level: a requirement on them says at which one. */
const PER_LOAD = new Set(['throughput', 'latency_p50', 'latency_p99']);
const PER_NEIGHBORS = new Set(['neighbor_p50', 'neighbor_p99', 'neighbor_throughput']);
const SHORTHANDS: Record<string, string> = { p50: 'latency_p50', p99: 'latency_p99' };

/** The unit each dimension's values are stored in (as samples carry them). */
const STORED_UNIT: Record<Dimension, string> = { duration: 'ms', microseconds: 'us', size: 'MiB', rate: 'req/s', percent: '%', count: 'count' };

export interface MetricRequirement {
  /** The key as written, e.g. "cold_start_p95". */
  key: string;
  /** The value as written, e.g. "<= 2s". */
  text: string;
  metric: string;
  statistic: Statistic;
  /** The load the metric is read at ({rate: 20}, {connections: 4}, {neighbors: 2}). */
  params?: Record<string, number>;
  comparison: Comparison;
  /** The limit in the unit the metric is stored in. */
  limit: number;
  unit: string;
}

export interface Requirements {
  isolation: IsolationLevel | null;
  metrics: MetricRequirement[];
}

const VALUE_RE = /^\s*(<=|<|>=|>)\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ/%]*)\s*(?:at\s+(\d+(?:\.\d+)?)\s*(req\/s|connections?|neighbou?rs?))?\s*$/;

function limitIn(dimension: Dimension, value: number, unit: string): number | string {
  const expected = (examples: string) => `expected a limit in ${examples}, got "${unit || '(no unit)'}"`;
  switch (dimension) {
    case 'duration': {
      if (unit === 'us' || unit === 'µs') return value / 1000;
      return unit in DURATION_UNITS ? value * DURATION_UNITS[unit as keyof typeof DURATION_UNITS] : expected('us, ms, s, m or h (e.g. "<= 2s")');
    }
    case 'microseconds': {
      const scale: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3 };
      return scale[unit] !== undefined ? value * scale[unit] : expected('ns, us or ms (e.g. "<= 5us")');
    }
    case 'size':
      return unit in SIZE_UNITS ? (value * SIZE_UNITS[unit as keyof typeof SIZE_UNITS]) / 2 ** 20 : expected('MiB, GiB, MB, GB … (e.g. "<= 512MiB")');
    case 'rate':
      return unit === 'req/s' || unit === '' ? value : expected('req/s (e.g. ">= 40req/s")');
    case 'percent':
      return unit === '%' || unit === '' ? value : expected('% (e.g. "<= 10%")');
    case 'count':
      return unit === '' ? value : expected('a plain count (e.g. ">= 10")');
  }
}

/** The metric and statistic a key names, or what is wrong with it. */
export function parseRequirementKey(key: string): { metric: string; statistic: Statistic } | string {
  const short = SHORTHANDS[key];
  if (short) return { metric: short, statistic: 'median' };
  if (DIMENSIONS[key]) return { metric: key, statistic: 'median' };
  for (const stat of STATISTICS) {
    const base = key.endsWith(`_${stat}`) ? key.slice(0, -stat.length - 1) : null;
    const metric = base === null ? null : (SHORTHANDS[base] ?? base);
    if (metric && DIMENSIONS[metric]) return { metric, statistic: stat };
  }
  return `expected "isolation" or a metric with an optional statistic (e.g. "cold_start_p95", "startup", "p99", "memory_host_max"; statistics: ${STATISTICS.join(', ')}), got "${key}"`;
}

/** One `require` entry → a requirement, or a message saying what is wrong. */
export function parseRequirement(key: string, text: string): MetricRequirement | { isolation: IsolationLevel } | string {
  if (key === 'isolation') {
    return (ISOLATION_LEVELS as readonly string[]).includes(text)
      ? { isolation: text as IsolationLevel }
      : `expected ${ISOLATION_LEVELS.map((l) => `"${l}"`).join(' or ')} (own-kernel: the workload must not share the host's kernel), got "${text}"`;
  }
  const named = parseRequirementKey(key);
  if (typeof named === 'string') return named;
  const m = VALUE_RE.exec(text);
  if (!m) return `expected a comparison such as "<= 2s", "< 100ms at 20 req/s" or ">= 10", got "${text}"`;
  const dimension = DIMENSIONS[named.metric]!;
  const limit = limitIn(dimension, Number(m[2]), m[3] ?? '');
  if (typeof limit === 'string') return limit;
  const at = m[4] === undefined ? undefined : Number(m[4]);
  const atUnit = m[5] ?? '';
  const needsLoad = PER_LOAD.has(named.metric);
  const needsNeighbors = PER_NEIGHBORS.has(named.metric);
  if ((needsLoad || needsNeighbors) && at === undefined) {
    return needsLoad
      ? `${named.metric} is measured per load level: say which, e.g. "${m[1]} ${m[2]}${m[3]} at 20 req/s" or "at 4 connections"`
      : `${named.metric} is measured per number of neighbours: say which, e.g. "${m[1]} ${m[2]}${m[3]} at 2 neighbors"`;
  }
  let params: Record<string, number> | undefined;
  if (at !== undefined) {
    const isNeighbors = atUnit.startsWith('neighb');
    if (needsLoad && !isNeighbors) params = atUnit === 'req/s' ? { rate: at } : { connections: at };
    else if (needsNeighbors && isNeighbors) params = { neighbors: at };
    else return `"at ${m[4]} ${atUnit}" does not apply to ${named.metric}`;
  }
  return {
    key,
    text,
    metric: named.metric,
    statistic: named.statistic,
    ...(params ? { params } : {}),
    comparison: m[1] as Comparison,
    limit,
    unit: STORED_UNIT[dimension],
  };
}

/** A validated `require` block as data (entries that do not parse are left out: the schema has reported them). */
export function parseRequirements(block: Readonly<Record<string, string>>): Requirements {
  const out: Requirements = { isolation: null, metrics: [] };
  for (const [key, text] of Object.entries(block)) {
    const r = parseRequirement(key, text);
    if (typeof r === 'string') continue;
    if ('isolation' in r) out.isolation = r.isolation;
    else out.metrics.push(r);
  }
  return out;
}

/** Whether a value meets a requirement's limit. */
export function meets(value: number, r: Pick<MetricRequirement, 'comparison' | 'limit'>): boolean {
  switch (r.comparison) {
    case '<=':
      return value <= r.limit;
    case '<':
      return value < r.limit;
    case '>=':
      return value >= r.limit;
    case '>':
      return value > r.limit;
  }
}
