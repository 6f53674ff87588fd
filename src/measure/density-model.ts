/**
 * The pure parts of the density measurement (src/measure/density.ts): the
 * least-squares slope of host memory vs instance count, the projection of
 * the next instance's memory, and the decision after each step whether the
 * point met every limit and whether to go on.
 */

export type DensityStopReason =
  /** The measured memory exceeded the budget, or the next instance would (projected). */
  | 'budget'
  /** A launch or its readiness failed (recorded in `error`). */
  | 'launch_failed'
  /** p99 latency over the SLO, or too many probe requests failed / timed out. */
  | 'slo'
  /** max_instances instances ran within every limit. */
  | 'max_instances'
  /** The signal aborted. */
  | 'aborted'
  /** A memory reading or the probe load itself failed (recorded in `error`). */
  | 'measure_failed';

/** One step: `instances` instances running at once, each measured together. */
export interface DensityPoint {
  instances: number;
  /** launch() → first HTTP 200 from the readiness endpoint, of the instance added in this step. */
  launchToReadyMs: number;
  /** Host memory of all running instances (see DensityResult.memoryMethod). */
  hostMemoryBytes: number;
  /** Latency over all instances' probe requests (merged histograms); null when none succeeded. */
  p99Ms: number | null;
  p50Ms: number | null;
  /** Successful probe requests per second, summed over the instances. */
  reqPerSec: number;
  /** Successful probe requests. */
  requests: number;
  /** Failed probe requests: non-2xx, socket errors, timeouts, and (open loop) dropped. */
  errors: number;
  /** Encoded HdrHistogram (µs) of every instance's probe latencies merged. */
  histogram: string;
}

export interface DensityLimits {
  maxInstances: number;
  memoryBudgetBytes: number;
  sloP99Ms: number;
  /** Largest tolerated failed fraction of probe requests (failures count as SLO misses). */
  maxErrorRate: number;
}

/** Least-squares slope of y over x; null with fewer than 2 points or when every x is the same. */
export function leastSquaresSlope(points: ReadonlyArray<{ x: number; y: number }>): number | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** Marginal host memory per instance: the slope of memory vs instances (bytes); null with < 2 points. */
export function marginalMemory(curve: ReadonlyArray<Pick<DensityPoint, 'instances' | 'hostMemoryBytes'>>): number | null {
  return leastSquaresSlope(curve.map((p) => ({ x: p.instances, y: p.hostMemoryBytes })));
}

/**
 * Host memory projected for one more instance than the last point: the last
 * measured total plus the marginal memory (the slope with ≥ 2 points, the
 * mean per instance with 1), never less than the last total. null when empty.
 */
export function projectNextMemory(curve: ReadonlyArray<Pick<DensityPoint, 'instances' | 'hostMemoryBytes'>>): number | null {
  const last = curve[curve.length - 1];
  if (last === undefined) return null;
  const marginal = marginalMemory(curve) ?? (last.instances > 0 ? last.hostMemoryBytes / last.instances : 0);
  return last.hostMemoryBytes + Math.max(0, marginal);
}

/** Failed fraction of the probe requests; 1 when none was answered at all. */
export function probeErrorRate(p: Pick<DensityPoint, 'requests' | 'errors'>): number {
  const all = p.requests + p.errors;
  return all === 0 ? 1 : p.errors / all;
}

export interface DensityVerdict {
  /** The last point met every limit (memory ≤ budget, p99 ≤ SLO, error rate ≤ max). */
  met: boolean;
  /** Why to stop now; null: launch one more. */
  stop: DensityStopReason | null;
  /** Why, in words (empty when going on). */
  detail: string;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * After a step: did its point (the last of `curve`) meet every limit, and
 * should the measurement stop? Memory is judged before latency. A point that
 * met every limit still stops at max_instances, or at 'budget' when the
 * projected memory of one more instance exceeds the budget.
 */
export function decideDensityStep(curve: readonly DensityPoint[], limits: DensityLimits): DensityVerdict {
  const last = curve[curve.length - 1];
  if (last === undefined) return { met: false, stop: null, detail: '' };
  const n = last.instances;
  if (last.hostMemoryBytes > limits.memoryBudgetBytes) {
    return { met: false, stop: 'budget', detail: `${n} instances use ${mib(last.hostMemoryBytes)} > budget ${mib(limits.memoryBudgetBytes)}` };
  }
  if (last.p99Ms === null) {
    return { met: false, stop: 'slo', detail: `${n} instances: no probe request succeeded (${last.errors} failed)` };
  }
  if (last.p99Ms > limits.sloP99Ms) {
    return { met: false, stop: 'slo', detail: `${n} instances: p99 ${last.p99Ms.toFixed(1)} ms > SLO ${limits.sloP99Ms} ms` };
  }
  const rate = probeErrorRate(last);
  if (rate > limits.maxErrorRate) {
    return {
      met: false,
      stop: 'slo',
      detail: `${n} instances: ${last.errors} of ${last.errors + last.requests} probe requests failed (${(rate * 100).toFixed(1)} % > ${(limits.maxErrorRate * 100).toFixed(1)} %)`,
    };
  }
  if (n >= limits.maxInstances) return { met: true, stop: 'max_instances', detail: `reached max_instances = ${limits.maxInstances}` };
  const projected = projectNextMemory(curve);
  if (projected !== null && projected > limits.memoryBudgetBytes) {
    return {
      met: true,
      stop: 'budget',
      detail: `${n + 1} instances would use ≈ ${mib(projected)} > budget ${mib(limits.memoryBudgetBytes)}`,
    };
  }
  return { met: true, stop: null, detail: '' };
}
