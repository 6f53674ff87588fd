import { resolveTarget, totalErrors, type LoadResult, type MaxRateResult, type TargetSpec } from '../loadgen/index.js';
import type { Instance } from '../platforms/platform.js';
import { metricLabel, type Sample, type SampleParams } from '../results/sample.js';
import type { ThroughputConfig } from '../scenario/schema.js';
import type { HttpRequestSpec } from '../workload/server-protocol.js';
import { onceIf, type Measurement, type SampleValue, type StepContext } from './measurement.js';
import { emitMemory, measureMemory, type MemoryMeasurement } from './memory.js';
import { siteOf } from './load-site.js';
import { pinForLoad } from './pinning.js';

/** One load level: a closed-loop connection count or an open-loop arrival rate. */
export interface LoadLevel {
  /** The level as sample parameters: { connections } or { rate }. */
  params: SampleParams;
  connections?: number;
  rate?: number;
}

export function loadLevels(config: ThroughputConfig): LoadLevel[] {
  return config.mode === 'open'
    ? (config.rates ?? []).map((rate) => ({ params: { rate }, rate }))
    : config.connections.map((connections) => ({ params: { connections }, connections }));
}

/** How a level reads in messages: "throughput@c=4". */
function levelName(level: LoadLevel): string {
  return metricLabel('throughput', level.params);
}

/**
 * Throughput and latency at one load level against a ready instance: the
 * run's fixed input as a raw float32 body to the infer endpoint (raw output
 * back), closed loop (N connections, as fast as answers come) or open loop
 * (constant arrival rate, latency from the intended send time).
 */
export function runLoadLevel(
  instance: Instance,
  request: HttpRequestSpec,
  config: ThroughputConfig,
  level: LoadLevel,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const target = resolveTarget(inferTarget(instance, request));
  const common = { target, durationMs: config.duration, warmupMs: config.warmup, timeoutMs: config.timeout, signal };
  return level.rate !== undefined
    ? siteOf(instance).openLoop({ ...common, rate: level.rate })
    : siteOf(instance).closedLoop({ ...common, connections: level.connections ?? 1 });
}

/** The run's inference request as the load generator sends it (the built-in server: raw float32 in, raw output back). */
export function inferTarget(instance: Instance, request: HttpRequestSpec): TargetSpec {
  return {
    url: instance.baseUrl + request.path,
    method: request.method,
    headers: request.headers,
    ...(request.body ? { body: request.body } : {}),
  };
}

/**
 * The highest open-loop rate whose p99 ≤ the SLO with ≤ 1 % errors: doubling
 * from half the best rate seen at the load levels, then bisecting (≤ 8 short
 * steps of at most 5 s each).
 */
export function searchMaxRate(
  instance: Instance,
  request: HttpRequestSpec,
  config: ThroughputConfig & { slo_p99: number },
  bestSeenReqPerSec: number,
  signal?: AbortSignal,
): Promise<MaxRateResult> {
  const start = Math.max(0.5, bestSeenReqPerSec / 2);
  return siteOf(instance).maxRate({
    target: inferTarget(instance, request),
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
    metric: 'max_rate',
    params: { slo_p99_ms: sloMs },
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

export type LoadSampleValue = SampleValue;

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
  const params = level.params;
  const out: LoadSampleValue[] = [{ metric: 'throughput', params, value: r.reqPerSec, unit: 'req/s', metadata }];
  if (r.requests > 0) {
    out.push({ metric: 'latency_p50', params, value: r.latencyMs.p50, unit: 'ms', metadata });
    out.push({ metric: 'latency_p99', params, value: r.latencyMs.p99, unit: 'ms', metadata });
  }
  return out;
}

/**
 * Every load level on one ready instance — with the load generator and the
 * instance on different CPUs where the host allows, and a memory reading
 * half-way through the first level when memory.under_load is set — then the
 * maximum sustainable rate when an SLO is given.
 */
async function runLevels(ctx: StepContext, instance: Instance, cfg: ThroughputConfig, underLoad: boolean, pinning: string): Promise<void> {
  let bestReqPerSec = 0;
  for (const [i, level] of loadLevels(cfg).entries()) {
    ctx.throwIfAborted();
    const load = runLoadLevel(instance, ctx.protocol.load, cfg, level, ctx.signal);
    let memory: Promise<MemoryMeasurement> | undefined;
    if (i === 0 && underLoad) {
      // Half-way through the measured window of the first level: steady load.
      memory = measureMemory(ctx.platform, instance, { settleMs: cfg.warmup + cfg.duration / 2, signal: ctx.signal, from: performance.now() });
    }
    const [result, reading] = await Promise.all([load, memory]);
    if (reading) emitMemory(ctx, reading, 'load', instance);
    bestReqPerSec = Math.max(bestReqPerSec, result.reqPerSec);
    for (const v of loadSampleValues(level, result)) ctx.emit({ ...v, metadata: { ...v.metadata, pinning } }, instance);
    const failed = totalErrors(result) + result.timeouts + (result.dropped ?? 0);
    const name = `${ctx.platform.name}: ${levelName(level)}`;
    if (result.requests === 0) {
      ctx.warn(`${name}: no request succeeded in ${cfg.duration} ms (${result.timeouts} timeouts at ${cfg.timeout} ms, ${totalErrors(result)} errors); no latency recorded`);
    } else if (failed > 0) {
      ctx.warn(`${name}: ${failed} of ${failed + result.requests} requests failed or timed out`);
    }
    if (result.loadgenCpu.saturated) {
      ctx.warn(`${name}: the load generator used ${result.loadgenCpu.cores.toFixed(2)} cores: it may be the bottleneck`);
    }
  }
  if (cfg.slo_p99 !== undefined) {
    ctx.throwIfAborted();
    const search = await searchMaxRate(instance, ctx.protocol.load, { ...cfg, slo_p99: cfg.slo_p99 }, bestReqPerSec, ctx.signal);
    const v = maxRateSampleValue(cfg.slo_p99, search);
    ctx.emit({ ...v, metadata: { ...v.metadata, pinning } }, instance);
  }
}

/** throughput: requests per second and latency at each load level, on a ready instance. */
export const throughputMeasurement: Measurement = {
  name: 'throughput',
  uses: 'ready',
  rounds: (s) => onceIf(s.measurements.throughput),
  async run(ctx, s) {
    const cfg = s.measurements.throughput!;
    const instance = await ctx.readyInstance();
    const underLoad = s.measurements.memory?.under_load === true && ctx.platform.memoryReading !== undefined;
    const pinning = await pinForLoad(ctx.platform, instance, ctx.instanceCpus);
    try {
      await runLevels(ctx, instance, cfg, underLoad, pinning.detail);
    } finally {
      await pinning.restore();
    }
  },
};