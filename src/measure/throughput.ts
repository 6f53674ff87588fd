import { resolveTarget, runClosedLoop, runOpenLoop, totalErrors, type LoadResult } from '../loadgen/index.js';
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
  const target = resolveTarget({
    url: instance.baseUrl + ENDPOINTS.infer(modelName),
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' },
    body: input,
  });
  const common = { target, durationMs: config.duration, warmupMs: config.warmup, timeoutMs: config.timeout, signal };
  return level.rate !== undefined
    ? runOpenLoop({ ...common, rate: level.rate })
    : runClosedLoop({ ...common, connections: level.connections ?? 1 });
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
