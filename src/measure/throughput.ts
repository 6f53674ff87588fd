import { findMaxSustainableRate, resolveTarget, runClosedLoop, runOpenLoop, totalErrors, type LoadResult, type MaxRateResult, type TargetSpec } from '../loadgen/index.js';
import type { Instance } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { ThroughputConfig } from '../scenario/schema.js';
import { ENDPOINTS } from '../workload/contract.js';

/** One load level: a closed-loop connection count or an open-loop arrival rate. */
export interface LoadLevel {
  /** Suffix of the metric names, e.g. "c=4" or "r=50". */
  label: string;
  connections?: number;
  rate?: number;
}

export function loadLevels(config: ThroughputConfig): LoadLevel[] {
  return config.mode === 'open'
    ? (config.rates ?? []).map((rate) => ({ label: `r=${rate}`, rate }))
    : config.connections.map((connections) => ({ label: `c=${connections}`, connections }));
}

/**
 * Throughput and latency at one load level against a ready instance: the
 * run's fixed input as a raw float32 body to the infer endpoint (raw output
 * back), closed loop (N connections, as fast as answers come) or open loop
 * (constant arrival rate, latency from the intended send time).
 */
export function runLoadLevel(
  instance: Instance,
  modelName: string,
  input: Buffer,
  config: ThroughputConfig,
  level: LoadLevel,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const target = resolveTarget(inferTarget(instance, modelName, input));
  const common = { target, durationMs: config.duration, warmupMs: config.warmup, timeoutMs: config.timeout, signal };
  return level.rate !== undefined
    ? runOpenLoop({ ...common, rate: level.rate })
    : runClosedLoop({ ...common, connections: level.connections ?? 1 });
}

/** The run's fixed input as a raw float32 inference request (raw output back). */
export function inferTarget(instance: Instance, modelName: string, input: Buffer): TargetSpec {
  return {
    url: instance.baseUrl + ENDPOINTS.infer(modelName),
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' },
    body: input,
  };
}

/**
 * The highest open-loop rate whose p99 ≤ the SLO with ≤ 1 % errors: doubling
 * from half the best rate seen at the load levels, then bisecting (≤ 8 short
 * steps of at most 5 s each).
 */
export function searchMaxRate(
  instance: Instance,
  modelName: string,
  input: Buffer,
  config: ThroughputConfig & { slo_p99: number },
  bestSeenReqPerSec: number,
  signal?: AbortSignal,
): Promise<MaxRateResult> {
  const start = Math.max(0.5, bestSeenReqPerSec / 2);
  return findMaxSustainableRate({
    target: inferTarget(instance, modelName, input),
    sloP99Ms: config.slo_p99,
    startRate: start,
    maxRate: Math.max(start * 4, bestSeenReqPerSec * 2),
    stepDurationMs: Math.min(config.duration, 5_000),
    timeoutMs: config.timeout,
    maxSteps: 8,
    signal,
  });
}

export function maxRateSampleValue(sloMs: number, r: MaxRateResult): LoadSampleValue {
  return {
    metric: `max_rate@p99<=${sloMs}ms`,
    value: r.rate,
    unit: 'req/s',
    metadata: {
      slo_p99_ms: sloMs,
      failed_at: r.failedAt ?? null,
      stopped_by: r.stoppedBy,
      steps: r.steps.map((s) => `${Number(s.rate.toPrecision(4))}:${s.pass ? 'pass' : `fail(${s.reason ?? ''})`}`).join(' '),
    },
  };
}

export type LoadSampleValue = Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>;

/**
 * Samples of one load level: req/s always; latency percentiles only when at
 * least one request succeeded (a run where everything timed out has no
 * latency, not a latency of 0).
 */
export function loadSampleValues(level: LoadLevel, r: LoadResult): LoadSampleValue[] {
  const metadata: Sample['metadata'] = {
    mode: r.mode,
    connections: r.connections ?? null,
    rate: r.rate ?? null,
    duration_ms: Math.round(r.durationMs),
    requests: r.requests,
    sent: r.sent,
    errors: totalErrors(r),
    error_kinds: Object.entries(r.errors).map(([k, v]) => `${k}=${v}`).join(' ') || null,
    timeouts: r.timeouts,
    late: r.late ?? null,
    dropped: r.dropped ?? null,
    p90_ms: r.requests ? r.latencyMs.p90 : null,
    p999_ms: r.requests ? r.latencyMs.p999 : null,
    max_ms: r.requests ? r.latencyMs.max : null,
    loadgen_cores: Number(r.loadgenCpu.cores.toFixed(3)),
    loadgen_saturated: r.loadgenCpu.saturated,
    histogram: r.histogram,
  };
  const out: LoadSampleValue[] = [{ metric: `throughput@${level.label}`, value: r.reqPerSec, unit: 'req/s', metadata }];
  if (r.requests > 0) {
    out.push({ metric: `latency_p50@${level.label}`, value: r.latencyMs.p50, unit: 'ms', metadata });
    out.push({ metric: `latency_p99@${level.label}`, value: r.latencyMs.p99, unit: 'ms', metadata });
  }
  return out;
}
