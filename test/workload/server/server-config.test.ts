import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel, type ResolvedModel } from '../../../src/workload/model/model-cache.js';
import { json, postJson, request, startServer, waitFor, waitReady, type RunningServer } from './spawn-server.js';

let dir: string;
let model: ResolvedModel;
const started: RunningServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-server-config-'));
  model = await ensureModel('resnet18', dir);
});

afterAll(async () => {
  for (const s of started) s.kill();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const s = await startServer(env);
  started.push(s);
  return s;
}

describe('VMBENCH_MAX_BODY_BYTES', () => {
  it('stops reading a chunked body once it passes the limit (413), and keeps serving', async () => {
    const s = await start({ VMBENCH_MODEL: model.path, VMBENCH_MAX_BODY_BYTES: '4096' });
    await waitReady(s);
    const r = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: s.port,
        method: 'POST',
        path: '/v2/models/model/infer', // default model name
        agent: false,
        headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(8192)); // over the limit; the request is never ended
    });
    expect(r.status).toBe(413);
    expect(r.connection).toBe('close');
    expect(JSON.parse(r.body)).toEqual({ error: expect.stringMatching(/exceeds the limit of 4096 bytes/) });

    // A small (invalid) body under the limit is read and judged normally.
    const small = await postJson(s.port, '/v2/models/model/infer', { inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: [] }] });
    expect(small.status).toBe(400);
    expect((await request(s.port, { path: '/v2/health/live' })).status).toBe(200);
  });
});

describe('signals and startup failures', () => {
  it('exits 0 on SIGINT', async () => {
    const s = await start({ VMBENCH_MODEL: model.path });
    await waitReady(s);
    const t0 = Date.now();
    s.child.kill('SIGINT');
    const { code, at } = await s.exited;
    expect(code).toBe(0);
    expect(at - t0).toBeLessThan(2000);
  });

  it('exits 0 on SIGTERM while the model is still loading', async () => {
    const s = await start({ VMBENCH_MODEL: model.path });
    await waitFor('listening', async () => (s.phases().has('listening') ? true : undefined), 20_000, 2);
    s.child.kill('SIGTERM');
    const { code } = await s.exited;
    expect(code).toBe(0);
  });

  it('refuses a bad configuration with exit code 2 and a message', async () => {
    const s = await start({ VMBENCH_MODEL: model.path, VMBENCH_THREADS: 'lots' });
    const { code } = await s.exited;
    expect(code).toBe(2);
    expect(s.stderr.join('\n')).toMatch(/VMBENCH_THREADS="lots": expected an integer/);
  });

  it('exits 1 with a message when the model cannot be loaded (after listening)', async () => {
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'not a model');
    const s = await start({ VMBENCH_MODEL: junk });
    const { code } = await s.exited;
    expect(code).toBe(1);
    expect(s.stderr.join('\n')).toMatch(/cannot load model .*junk\.onnx/);
    expect([...s.phases().keys()]).toEqual(['process_start', 'listening']);
  });

  it('serves a custom model name, threads from the environment', async () => {
    const s = await start({ VMBENCH_MODEL: model.path, VMBENCH_MODEL_NAME: 'resnet 18', VMBENCH_THREADS: '1' });
    await waitReady(s);
    const info = json(await request(s.port, { path: '/vmbench/info' }));
    expect(info.model.name).toBe('resnet 18');
    expect(info.threads).toBe(1);
    expect((await request(s.port, { path: '/v2/models/resnet%2018' })).status).toBe(200);
    expect((await request(s.port, { path: '/v2/models/model' })).status).toBe(404);
  });
});
