import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../../src/workload/model/onnx-encoder.js';
import { CONTEXT_MODEL_BASE64 } from '../../../src/workload/server/gpu.mjs';
import { json, request, startServer, waitReady, type RunningServer } from './spawn-server.js';

/**
 * GPU inference on a machine without a GPU or the CUDA provider (this one):
 * what the server does when asked for the GPU — fail clearly, or, with
 * VMBENCH_FALLBACK=cpu, run on CPU and say so on every answer. Real
 * onnxruntime-node, real failure (its CUDA provider library is not installed).
 */

const contextModel = () =>
  encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 'vmbench',
    graph: {
      name: 'gpu_context',
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', elemType: 1, shape: [1] }],
      outputs: [{ name: 'y', elemType: 1, shape: [1] }],
    },
  });

let dir: string;
let modelPath: string;
const servers: RunningServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-server-gpu-'));
  modelPath = join(dir, 'identity.onnx');
  await writeFile(modelPath, contextModel());
});

afterAll(async () => {
  for (const s of servers) s.kill();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const s = await startServer({ VMBENCH_MODEL: modelPath, VMBENCH_MODEL_NAME: 'm', ...env });
  servers.push(s);
  return s;
}

async function inferRaw(s: RunningServer) {
  const body = Buffer.from(new Float32Array([2.5]).buffer);
  return request(s.port, { method: 'POST', path: '/v2/models/m/infer', headers: { 'Content-Type': 'application/octet-stream' }, body });
}

describe('the CUDA context model', () => {
  it('is the encoder\'s one-node Identity model, and runs (on CPU here)', async () => {
    expect(Buffer.from(CONTEXT_MODEL_BASE64, 'base64').equals(contextModel())).toBe(true);
    const s = await ort.InferenceSession.create(contextModel(), { executionProviders: ['cpu'] });
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([3]), [1]) });
    expect(Array.from(r.y!.data as Float32Array)).toEqual([3]);
  });
});

describe('server asked for the GPU where there is none', () => {
  it('without fallback: exits at load with the reason, no gpu_context phase', async () => {
    const s = await start({ VMBENCH_DEVICE: 'gpu' });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    const err = s.stderr.join('\n');
    expect(err).toMatch(/cannot load model .*CUDA execution provider failed while creating the CUDA context: .*Failed to load shared library/);
    expect(err).toContain('set fallback: cpu to run on CPU instead');
    expect(s.phases().has('gpu_context')).toBe(false);
    expect(s.phases().has('model_loaded')).toBe(false);
  }, 30_000);

  it('with VMBENCH_FALLBACK=cpu: serves on CPU and says so in /vmbench/info and on every answer', async () => {
    const s = await start({ VMBENCH_DEVICE: 'gpu', VMBENCH_FALLBACK: 'cpu' });
    await waitReady(s);
    const info = json(await request(s.port, { path: '/vmbench/info' }));
    expect(info.device).toBe('cpu');
    expect(info.requestedDevice).toBe('gpu');
    expect(info.deviceReason).toMatch(/^CUDA execution provider failed while creating the CUDA context: .*; running on CPU \(fallback: cpu\)$/);
    expect(info.gpuTimings).toBeNull();
    const r = await inferRaw(s);
    expect(r.status).toBe(200);
    expect(r.headers['x-device']).toBe('cpu');
    expect(json(r).outputs[0].data).toEqual([2.5]);
    expect(s.phases().has('gpu_context')).toBe(false);
    expect(s.stderr.join('\n')).toContain('asked for the GPU, running on CPU');
  }, 30_000);

  it('on CPU (the default) reports cpu, asked for cpu, no reason', async () => {
    const s = await start({});
    await waitReady(s);
    const info = json(await request(s.port, { path: '/vmbench/info' }));
    expect([info.device, info.requestedDevice, info.deviceReason, info.gpuTimings]).toEqual(['cpu', 'cpu', null, null]);
    expect((await inferRaw(s)).headers['x-device']).toBe('cpu');
  }, 30_000);

  it('refuses a device it does not know', async () => {
    const s = await start({ VMBENCH_DEVICE: 'tpu' });
    expect((await s.exited).code).toBe(2);
    expect(s.stderr.join('\n')).toContain('VMBENCH_DEVICE="tpu": expected one of cpu, gpu');
  }, 30_000);
});
