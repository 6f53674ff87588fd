import { BenchError, messageOf } from '../errors.js';
import { resolveTarget, runClosedLoop, type LoadResult } from '../loadgen/index.js';
import { probe } from '../loadgen/probe.js';
import type { GpuReading } from '../platforms/gpu-reading.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { GpuMeasurementConfig } from '../scenario/schema.js';
import { ENDPOINTS, type ServerInfo } from '../workload/contract.js';
import type { Measurement, SampleValue, StepContext } from './measurement.js';

/**
 * GPU inference on one ready instance (device: gpu):
 *
 *   cold_start_cuda_context     the server's one-node CUDA session, created and run once:
 *                               CUDA provider + libraries loaded, CUDA context created (ms)
 *   cold_start_model_upload     the model's CUDA session: graph read, optimised, weights uploaded (ms)
 *   cold_start_first_inference  the warm-up inference, the first on that session (ms)
 *       — the three as the server timed them on its own clock at its start (gpu.mjs)
 *   gpu_memory_idle             GPU memory the instance holds once ready, before this load (MiB)
 *   batch_latency_p50/_p99      per batch size (params.batch): `requests` sequential requests of
 *                               that many inputs on one keep-alive connection, after `warmup` (ms)
 *   batch_throughput            inputs inferred per second at that batch size (inferences/s)
 *   gpu_memory_used             the most GPU memory the instance held during that batch size (MiB)
 *   gpu_utilization             the mean of utilization.gpu read during that batch size (%; per GPU,
 *                               so on a shared GPU it is everyone's: metadata.gpu_shared)
 *
 * GPU readings come from the platform (Platform.gpuReading): the host's
 * nvidia-smi for containers, the guest's over SSH for a VM. An instance that
 * fell back to CPU (fallback: cpu) still gets its latencies and throughput
 * measured, labelled device cpu, and no GPU figures: there are none.
 */

const MIB = 2 ** 20;
/** A batch size may run at most this long, whatever `requests` says. */
const MAX_WINDOW_MS = 600_000;

/** The run's request body with `batch` inputs: its first input repeated (the body holds `bodyBatch`). */
export function batchBody(input: Buffer, bodyBatch: number, batch: number): Buffer {
  if (bodyBatch < 1 || input.length % bodyBatch !== 0) throw new BenchError('internal', `request body of ${input.length} bytes is not ${bodyBatch} inputs`);
  const one = input.subarray(0, input.length / bodyBatch);
  return Buffer.concat(Array.from({ length: batch }, () => one));
}

/** The cold-start split the server reports, as samples (none when it ran on CPU). */
export function coldStartSplitValues(info: Pick<ServerInfo, 'gpuTimings' | 'device'>): SampleValue[] {
  const t = info.gpuTimings;
  if (!t || info.device !== 'gpu') return [];
  const metadata = { source: 'server clock (gpu.mjs), at the instance start' };
  const parts: Array<[string, number | null]> = [
    ['cold_start_cuda_context', t.contextMs],
    ['cold_start_model_upload', t.sessionMs],
    ['cold_start_first_inference', t.firstInferenceMs],
  ];
  return parts.filter((p): p is [string, number] => p[1] !== null).map(([metric, value]) => ({ metric, value, unit: 'ms', metadata }));
}

/** One batch size's samples from its load run and the GPU readings taken meanwhile. */
export function batchSampleValues(batch: number, r: LoadResult, readings: readonly GpuReading[], device: string): SampleValue[] {
  if (r.requests === 0) return [];
  const params = { batch };
  const metadata = { requests: r.requests, errors: Object.values(r.errors).reduce((a, b) => a + b, 0), timeouts: r.timeouts, window_ms: r.durationMs, device };
  const out: SampleValue[] = [
    { metric: 'batch_latency_p50', params, value: r.latencyMs.p50, unit: 'ms', metadata: { ...metadata, histogram: r.histogram } },
    { metric: 'batch_latency_p99', params, value: r.latencyMs.p99, unit: 'ms', metadata },
    { metric: 'batch_throughput', params, value: batch * r.reqPerSec, unit: 'inferences/s', metadata: { ...metadata, req_per_s: r.reqPerSec } },
  ];
  const mem = readings.map((g) => g.memoryUsedBytes).filter((v): v is number => v !== null);
  const util = readings.map((g) => g.utilizationPct).filter((v): v is number => v !== null);
  const gm = { readings: readings.length, method: readings[0]?.method ?? null, gpu_shared: readings.some((g) => g.shared), device };
  if (mem.length) out.push({ metric: 'gpu_memory_used', params, value: Math.max(...mem) / MIB, unit: 'MiB', metadata: gm });
  if (util.length) out.push({ metric: 'gpu_utilization', params, value: util.reduce((a, b) => a + b, 0) / util.length, unit: '%', metadata: gm });
  return out;
}

async function serverInfo(instance: Instance): Promise<ServerInfo> {
  const res = await probe({ url: instance.baseUrl + ENDPOINTS.info, timeoutMs: 5_000 });
  if (res.status !== 200) throw new BenchError('infrastructure', `GET ${ENDPOINTS.info} answered ${res.status}`);
  return JSON.parse(res.body.toString('utf8')) as ServerInfo;
}

/** Reads the instance's GPU use every intervalMs until stopped; failures are counted, not thrown. */
function sampleGpu(platform: Platform, instance: Instance, intervalMs: number): { stop: () => Promise<{ readings: GpuReading[]; failures: string[] }> } {
  const readings: GpuReading[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        readings.push(await platform.gpuReading!(instance));
      } catch (err) {
        failures.push(messageOf(err));
      }
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - t0))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { readings, failures };
    },
  };
}

export async function runGpuMeasurement(ctx: StepContext, cfg: GpuMeasurementConfig, bodyBatch: number): Promise<void> {
  // GPU inference is the built-in server's (an image workload cannot ask for device: gpu): its raw float32 request.
  const { modelName, infer } = ctx.protocol;
  if (modelName === null || infer.body === undefined) throw new BenchError('internal', 'the gpu measurement needs the built-in server\'s raw float32 request');
  const instance = await ctx.readyInstance();
  const info = await serverInfo(instance);
  const device = info.device ?? 'cpu';
  if (device !== 'gpu') ctx.warn(`${ctx.platform.name}: runs on ${device}${info.deviceReason ? `: ${info.deviceReason}` : ''}; GPU figures are not measured`);
  for (const v of coldStartSplitValues(info)) ctx.emit(v, instance);
  if (device === 'gpu') {
    const idle = await ctx.platform.gpuReading!(instance).catch((err: unknown) => {
      ctx.warn(`${ctx.platform.name}: GPU reading failed: ${messageOf(err)}`);
      return null;
    });
    if (idle?.memoryUsedBytes != null) ctx.emit({ metric: 'gpu_memory_idle', value: idle.memoryUsedBytes / MIB, unit: 'MiB', metadata: { method: idle.method, gpu_shared: idle.shared } }, instance);
  }
  for (const batch of cfg.batch_sizes) {
    ctx.throwIfAborted();
    const target = {
      url: instance.baseUrl + ENDPOINTS.infer(modelName),
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: batchBody(infer.body, bodyBatch, batch),
    };
    resolveTarget(target);
    const common = { target, connections: 1, timeoutMs: cfg.timeout, durationMs: MAX_WINDOW_MS, signal: ctx.signal };
    if (cfg.warmup > 0) await runClosedLoop({ ...common, maxRequests: cfg.warmup });
    const sampler = device === 'gpu' ? sampleGpu(ctx.platform, instance, cfg.sample_interval) : null;
    const result = await runClosedLoop({ ...common, maxRequests: cfg.requests });
    const gpu = sampler ? await sampler.stop() : { readings: [], failures: [] };
    if (gpu.failures.length) ctx.warn(`${ctx.platform.name}: batch ${batch}: ${gpu.failures.length} GPU reading(s) failed: ${gpu.failures[0]}`);
    if (result.requests < cfg.requests) ctx.warn(`${ctx.platform.name}: batch ${batch}: ${result.requests} of ${cfg.requests} requests answered (${result.timeouts} timeouts, errors ${JSON.stringify(result.errors)})`);
    for (const v of batchSampleValues(batch, result, gpu.readings, device)) ctx.emit(v, instance);
  }
}

/** gpu: cold-start split, GPU memory and utilisation, throughput and latency per batch size. */
export const gpuMeasurement: Measurement = {
  name: 'gpu',
  uses: 'ready',
  rounds: (s) => (s.measurements.gpu ? { rounds: s.measurements.gpu.repetitions, warmup: 0 } : null),
  unsupported: (p) => (p.gpuReading ? null : `${p.kind} platforms cannot read an instance's GPU use`),
  run: (ctx, s) => runGpuMeasurement(ctx, s.measurements.gpu!, s.workload.batch),
};
