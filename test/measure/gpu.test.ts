import { builtinProtocol } from '../../src/workload/server-protocol.js';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { batchBody, batchSampleValues, coldStartSplitValues, runGpuMeasurement } from '../../src/measure/gpu.js';
import type { SampleValue, StepContext } from '../../src/measure/measurement.js';
import type { GpuReading } from '../../src/platforms/gpu-reading.js';
import type { Instance, Platform } from '../../src/platforms/platform.js';
import type { LoadResult } from '../../src/loadgen/index.js';

const reading = (memMiB: number | null, util: number | null): GpuReading => ({
  takenAtEpochMs: 0, memoryUsedBytes: memMiB === null ? null : memMiB * 2 ** 20, utilizationPct: util, gpus: [], shared: false, method: 'test',
});

describe('gpu measurement pieces', () => {
  it('a batch body repeats the run\'s first input', () => {
    const input = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]); // two inputs of 4 bytes
    expect([...batchBody(input, 2, 3)]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect(() => batchBody(Buffer.alloc(7), 2, 1)).toThrow('not 2 inputs');
  });

  it('the cold-start split only when the instance runs on the GPU', () => {
    const gpuTimings = { contextMs: 812.5, sessionMs: 640.1, firstInferenceMs: 95.2 };
    expect(coldStartSplitValues({ device: 'gpu', gpuTimings }).map((v) => [v.metric, v.value, v.unit])).toEqual([
      ['cold_start_cuda_context', 812.5, 'ms'], ['cold_start_model_upload', 640.1, 'ms'], ['cold_start_first_inference', 95.2, 'ms'],
    ]);
    expect(coldStartSplitValues({ device: 'cpu', gpuTimings: null })).toEqual([]);
  });

  it('per batch size: latency, inputs per second, the peak GPU memory and the mean utilisation', () => {
    const r = { requests: 100, reqPerSec: 50, durationMs: 2000, errors: {}, timeouts: 0, latencyMs: { p50: 19.5, p99: 31 }, histogram: 'H' } as unknown as LoadResult;
    const v = batchSampleValues(8, r, [reading(900, 40), reading(1200, 80), reading(null, null)], 'gpu');
    expect(v.map((x) => [x.metric, x.params, x.value, x.unit])).toEqual([
      ['batch_latency_p50', { batch: 8 }, 19.5, 'ms'],
      ['batch_latency_p99', { batch: 8 }, 31, 'ms'],
      ['batch_throughput', { batch: 8 }, 400, 'inferences/s'],
      ['gpu_memory_used', { batch: 8 }, 1200, 'MiB'],
      ['gpu_utilization', { batch: 8 }, 60, '%'],
    ]);
    expect(batchSampleValues(8, r, [], 'cpu').map((x) => x.metric)).toEqual(['batch_latency_p50', 'batch_latency_p99', 'batch_throughput']);
    expect(batchSampleValues(8, { ...r, requests: 0 }, [], 'gpu')).toEqual([]);
  });
});

describe('runGpuMeasurement against a stand-in server', () => {
  it('reads the split, the idle memory, then every batch size with GPU readings taken meanwhile', async () => {
    const bodies: number[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/vmbench/info') return void res.end(JSON.stringify({ rootfsDigest: 'd', device: 'gpu', gpuTimings: { contextMs: 800, sessionMs: 600, firstInferenceMs: 90 } }));
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        bodies.push(n);
        setTimeout(() => res.end('{}'), 2);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const instance = { baseUrl: `http://127.0.0.1:${port}`, facts: {} } as unknown as Instance;
    let readings = 0;
    const platform = { name: 'p', gpuReading: async () => reading(1000 + 100 * readings++, 50) } as unknown as Platform;
    const emitted: SampleValue[] = [];
    const ctx = {
      platform, protocol: builtinProtocol(Buffer.alloc(16), 'model'), signal: new AbortController().signal,
      readyInstance: async () => instance, emit: (v: SampleValue) => emitted.push(v), warn: () => undefined, throwIfAborted: () => undefined,
    } as unknown as StepContext;
    try {
      await runGpuMeasurement(ctx, { repetitions: 1, batch_sizes: [1, 4], requests: 20, warmup: 2, timeout: 5000, sample_interval: 10 }, 1);
    } finally {
      server.close();
    }
    expect(emitted.slice(0, 4).map((v) => v.metric)).toEqual(['cold_start_cuda_context', 'cold_start_model_upload', 'cold_start_first_inference', 'gpu_memory_idle']);
    expect(emitted.filter((v) => v.metric === 'batch_throughput').map((v) => v.params)).toEqual([{ batch: 1 }, { batch: 4 }]);
    expect(emitted.filter((v) => v.metric === 'gpu_memory_used')).toHaveLength(2);
    expect(new Set(bodies)).toEqual(new Set([16, 64])); // batch 1 and 4 of a 16-byte input
    expect(bodies.length).toBe(2 * (2 + 20));
  });
});
