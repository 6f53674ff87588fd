import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel, type ResolvedModel } from '../../../src/workload/model/model-cache.js';
import {
  bufferToFloats,
  floatsToBuffer,
  json,
  postJson,
  pseudoImages,
  request,
  startServer,
  waitFor,
  waitReady,
  type RunningServer,
} from './spawn-server.js';

const NAME = 'resnet';
const INFER = `/v2/models/${NAME}/infer`;
const SAMPLE = 3 * 224 * 224;

let cacheDir: string;
let model: ResolvedModel;
let server: RunningServer;
/** Observed right after the first successful /v2/health/live. */
let early: { ready: number; infer: number; inferBody: any; meta: number };

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vmbench-server-test-'));
  model = await ensureModel('resnet18', cacheDir);
  server = await startServer({ VMBENCH_MODEL: model.path, VMBENCH_MODEL_NAME: NAME, VMBENCH_THREADS: '2' });
  // Poll liveness tightly so that we see the window between listening and ready.
  await waitFor(
    'health/live',
    async () => ((await request(server.port, { path: '/v2/health/live', timeoutMs: 1000 })).status === 200 ? true : undefined),
    20_000,
    2,
  );
  const [ready, inf, meta] = await Promise.all([
    request(server.port, { path: '/v2/health/ready' }),
    postJson(server.port, INFER, { inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: [0] }] }),
    request(server.port, { path: `/v2/models/${NAME}` }),
  ]);
  early = { ready: ready.status, infer: inf.status, inferBody: json(inf), meta: meta.status };
  await waitReady(server);
}, 60_000);

afterAll(async () => {
  server?.kill();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('startup', () => {
  it('answers health/live before the model is ready', () => {
    expect(early.ready).toBe(503);
    expect(early.infer).toBe(503);
    expect(early.inferBody).toEqual({ error: expect.stringMatching(/not ready/) });
    expect(early.meta).toBe(503);
  });

  it('logs the four readiness phases in order on stdout', () => {
    const p = server.phases();
    expect([...p.keys()]).toEqual(['process_start', 'listening', 'model_loaded', 'ready']);
    const t = [...p.values()];
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    expect(Math.abs(t[0]! - Date.now())).toBeLessThan(120_000);
    console.log(
      `phases (ms after process start): listening ${p.get('listening')! - t[0]!}, model_loaded ${p.get('model_loaded')! - t[0]!}, ready ${p.get('ready')! - t[0]!}`,
    );
  });

  it('health/ready and model ready answer 200 once loaded, with empty bodies', async () => {
    const r = await request(server.port, { path: '/v2/health/ready' });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
    expect((await request(server.port, { path: `/v2/models/${NAME}/ready` })).status).toBe(200);
    expect((await request(server.port, { path: '/v2/health/live' })).status).toBe(200);
  });
});

describe('metadata', () => {
  it('describes the model from the session: FP32, -1 for dynamic dims', async () => {
    const r = await request(server.port, { path: `/v2/models/${NAME}` });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(json(r)).toEqual({
      name: NAME,
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1000] }],
    });
  });

  it('serves server metadata at /v2', async () => {
    const r = await request(server.port, { path: '/v2' });
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ name: expect.any(String), version: expect.any(String), extensions: [] });
  });

  it('serves ServerInfo at /vmbench/info', async () => {
    const r = await request(server.port, { path: '/vmbench/info' });
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({
      rootfsDigest: null,
      node: process.version,
      onnxruntime: '1.30.0',
      pid: server.child.pid,
      model: { name: NAME, path: model.path, inputs: ['input'], outputs: ['output'] },
      threads: 2,
      device: 'cpu',
      requestedDevice: 'cpu',
      deviceReason: null,
      gpuTimings: null,
    });
  });
});

describe('inference', () => {
  const one = pseudoImages(1, 11);
  const two = pseudoImages(2, 22);
  let jsonOne: number[];

  it('answers a KServe v2 JSON request in the documented shape with [1,1000]', async () => {
    const t0 = performance.now();
    const r = await postJson(server.port, INFER, {
      id: '42',
      inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: Array.from(one) }],
      outputs: [{ name: 'output' }],
    });
    const ms = performance.now() - t0;
    expect(r.status).toBe(200);
    const doc = json(r);
    expect(Object.keys(doc).sort()).toEqual(['id', 'model_name', 'outputs']);
    expect(doc.model_name).toBe(NAME);
    expect(doc.id).toBe('42');
    expect(doc.outputs).toHaveLength(1);
    const out = doc.outputs[0];
    expect(out).toMatchObject({ name: 'output', shape: [1, 1000], datatype: 'FP32' });
    expect(out.data).toHaveLength(1000);
    expect(out.data.every((v: unknown) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    jsonOne = out.data;
    console.log(`JSON batch-1 request: ${ms.toFixed(1)} ms end to end (inference ${r.headers['x-inference-ms']} ms)`);
  });

  it('accepts nested (natural) tensor data and omits id when not given', async () => {
    const nested = [[0, 1, 2].map((c) => Array.from({ length: 224 }, (_, y) => Array.from(one.subarray(c * 50176 + y * 224, c * 50176 + y * 224 + 224))))];
    const r = await postJson(server.port, INFER, { inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: nested }] });
    expect(r.status).toBe(200);
    const doc = json(r);
    expect('id' in doc).toBe(false);
    expect(doc.outputs[0].data).toEqual(jsonOne);
  });

  it('takes a raw float32 batch of 2 and returns [2,1000], equal to the JSON path', async () => {
    const body = floatsToBuffer(two);
    const lat: number[] = [];
    let raw: Float32Array | undefined;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await request(server.port, {
        method: 'POST',
        path: INFER,
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream' },
        body,
      });
      lat.push(performance.now() - t0);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/octet-stream');
      expect(r.headers['x-output-shape']).toBe('2,1000');
      expect(r.headers['x-output-name']).toBe('output');
      expect(r.body.length).toBe(2 * 1000 * 4);
      const y = bufferToFloats(r.body);
      if (raw !== undefined) expect(y).toEqual(raw); // deterministic run to run
      raw = y;
    }
    console.log(`raw batch-2 request: ${lat.map((x) => x.toFixed(1)).join(', ')} ms`);

    // The same input through JSON: identical numbers (float32 → JSON double → float32 is exact).
    const r = await postJson(server.port, INFER, { inputs: [{ name: 'input', shape: [2, 3, 224, 224], datatype: 'FP32', data: Array.from(two) }] });
    expect(r.status).toBe(200);
    const out = json(r).outputs[0];
    expect(out.shape).toEqual([2, 1000]);
    expect(Float32Array.from(out.data)).toEqual(raw);

    // Raw body, JSON response (no Accept): same numbers again.
    const rj = await request(server.port, { method: 'POST', path: INFER, headers: { 'Content-Type': 'application/octet-stream' }, body });
    expect(rj.status).toBe(200);
    expect(json(rj).outputs[0].shape).toEqual([2, 1000]);
    expect(Float32Array.from(json(rj).outputs[0].data)).toEqual(raw);

    // Explicit X-Input-Shape works too.
    const rs = await request(server.port, {
      method: 'POST',
      path: INFER,
      headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream', 'X-Input-Shape': '2,3,224,224' },
      body,
    });
    expect(rs.status).toBe(200);
    expect(bufferToFloats(rs.body)).toEqual(raw);
  });

  it('gives the same answer for one sample in a batch of 1 (raw) as in JSON', async () => {
    const r = await request(server.port, {
      method: 'POST',
      path: INFER,
      headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream' },
      body: floatsToBuffer(one),
    });
    expect(r.status).toBe(200);
    expect(r.headers['x-output-shape']).toBe('1,1000');
    expect(bufferToFloats(r.body)).toEqual(Float32Array.from(jsonOne));
  });

  it('serves concurrent requests in order without mixing them up', async () => {
    const inputs = [1, 2, 3, 4].map((s) => pseudoImages(1, 100 + s));
    const send = (x: Float32Array) =>
      request(server.port, {
        method: 'POST',
        path: INFER,
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream' },
        body: floatsToBuffer(x),
      }).then((r) => bufferToFloats(r.body));
    const sequential: Float32Array[] = [];
    for (const x of inputs) sequential.push(await send(x));
    const concurrent = await Promise.all(inputs.map(send));
    expect(concurrent).toEqual(sequential);
  });
});

describe('client errors are clear JSON 4xx answers', () => {
  const valid = () => ({ inputs: [{ name: 'input', shape: [1, 3, 224, 224], datatype: 'FP32', data: new Array(SAMPLE).fill(0) }] });

  async function expectError(p: Promise<Awaited<ReturnType<typeof request>>>, status: number, message: RegExp) {
    const r = await p;
    expect(r.status, r.body.toString()).toBe(status);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    const doc = json(r);
    expect(Object.keys(doc)).toEqual(['error']);
    expect(doc.error).toMatch(message);
  }

  it('404 for an unknown model', async () => {
    await expectError(postJson(server.port, '/v2/models/nope/infer', valid()), 404, /unknown model 'nope'/);
    await expectError(request(server.port, { path: '/v2/models/nope' }), 404, /unknown model/);
    await expectError(request(server.port, { path: '/v2/models/nope/ready' }), 404, /unknown model/);
  });

  it('404 for an unknown route', async () => {
    await expectError(request(server.port, { path: '/' }), 404, /unknown route/);
    await expectError(request(server.port, { path: '/v2/models/resnet/explain' }), 404, /unknown route/);
    await expectError(request(server.port, { path: '/v3/health/live' }), 404, /unknown route/);
  });

  it('405 for a wrong method, with Allow', async () => {
    const r = await request(server.port, { path: INFER });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    await expectError(request(server.port, { path: INFER }), 405, /GET not allowed/);
    await expectError(request(server.port, { method: 'POST', path: '/v2/health/live', body: 'x' }), 405, /not allowed/);
    await expectError(request(server.port, { method: 'DELETE', path: `/v2/models/${NAME}` }), 405, /not allowed/);
  });

  it('400 for malformed JSON or a body that is not a request object', async () => {
    await expectError(postJson(server.port, INFER, '{"inputs": [}'), 400, /malformed JSON/);
    await expectError(postJson(server.port, INFER, ''), 400, /malformed JSON/);
    await expectError(postJson(server.port, INFER, '[1,2,3]'), 400, /JSON object/);
    await expectError(postJson(server.port, INFER, { inputs: [] }), 400, /'inputs' must be a non-empty array/);
    await expectError(postJson(server.port, INFER, { ...valid(), id: 42 }), 400, /'id' must be a string/);
  });

  it('400 for a wrong datatype', async () => {
    const doc = valid();
    doc.inputs[0]!.datatype = 'INT64';
    await expectError(postJson(server.port, INFER, doc), 400, /datatype "INT64" does not match the model's "FP32"/);
  });

  it('400 for a wrong shape, rank or data length', async () => {
    const bad = (patch: object) => postJson(server.port, INFER, { inputs: [{ ...valid().inputs[0], ...patch }] });
    await expectError(bad({ shape: [1, 3, 224, 225] }), 400, /does not match the model's \[N,3,224,224\] at dimension 3/);
    await expectError(bad({ shape: [3, 224, 224] }), 400, /rank 3/);
    await expectError(bad({ shape: [1, 3, 224, -224] }), 400, /positive integers/);
    await expectError(bad({ shape: 'big' }), 400, /'shape' must be/);
    await expectError(bad({ data: [1, 2, 3] }), 400, /needs 150528 values, 'data' has 3/);
    await expectError(bad({ data: new Array(SAMPLE + 1).fill(0) }), 400, /needs 150528 values, 'data' has more/);
    await expectError(bad({ data: ['a', ...new Array(SAMPLE - 1).fill(0)] }), 400, /only numbers/);
    await expectError(bad({ shape: [1_000_000_000, 3, 224, 224] }), 400, /larger than any body/);
  });

  it('400 for unknown, duplicate or missing inputs and unknown outputs', async () => {
    const input = valid().inputs[0]!;
    await expectError(postJson(server.port, INFER, { inputs: [{ ...input, name: 'image' }] }), 400, /unknown input 'image'.*inputs are: input/);
    await expectError(postJson(server.port, INFER, { inputs: [input, input] }), 400, /given twice/);
    await expectError(postJson(server.port, INFER, { ...valid(), outputs: [{ name: 'logits' }] }), 400, /unknown output 'logits'/);
  });

  it('400 for a raw body that is not a whole number of samples', async () => {
    const raw = (len: number, headers: Record<string, string> = {}) =>
      request(server.port, {
        method: 'POST',
        path: INFER,
        headers: { 'Content-Type': 'application/octet-stream', ...headers },
        body: Buffer.alloc(len),
      });
    await expectError(raw(SAMPLE * 4 + 4), 400, /not a multiple of one sample \(3x224x224 float32 = 602112 bytes\)/);
    await expectError(raw(SAMPLE * 4 - 4), 400, /not a multiple of one sample/);
    await expectError(raw(6), 400, /not a whole number of float32/);
    await expectError(raw(0), 400, /empty/);
    await expectError(raw(SAMPLE * 8, { 'X-Input-Shape': '1,3,224,224' }), 400, /X-Input-Shape \[1,3,224,224\] needs 602112/);
    await expectError(raw(SAMPLE * 4, { 'X-Input-Shape': 'one,3,224,224' }), 400, /shape/);
  });

  it('413 for a declared body over the limit, without reading it', async () => {
    const r = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: INFER,
        agent: false,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': 64 * 1024 * 1024 + 1 },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.flushHeaders(); // send the headers only; the body never comes
    });
    expect(r.status).toBe(413);
    expect(r.connection).toBe('close');
    expect(JSON.parse(r.body).error).toMatch(/exceeds the limit of 67108864 bytes/);
  });

  it('400 for a malformed HTTP request line', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(server.port, '127.0.0.1', () => sock.write('THIS IS NOT HTTP\r\n\r\n'));
      let data = '';
      sock.on('data', (c) => (data += c.toString()));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
  });

  it('survived all of the above and still serves', async () => {
    expect(server.child.exitCode).toBeNull();
    expect((await request(server.port, { path: '/v2/health/live' })).status).toBe(200);
    const r = await postJson(server.port, INFER, valid());
    expect(r.status).toBe(200);
    expect(json(r).outputs[0].shape).toEqual([1, 1000]);
  });
});

describe('isolation endpoints', () => {
  it('reports what the process sees of its own isolation (here: the host itself)', async () => {
    const r = await request(server.port, { path: '/vmbench/isolation' });
    expect(r.status).toBe(200);
    const f = json(r);
    const { release } = await import('node:os');
    const { readFileSync } = await import('node:fs');
    expect(f.kernelRelease).toBe(release());
    expect(f.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(f.capEff).toMatch(/^[0-9a-f]{16}$/);
    expect(f.capabilities).toBeGreaterThan(0); // the test runs as root
    expect(['disabled', 'strict', 'filter']).toContain(f.seccomp);
    expect(typeof f.noNewPrivs).toBe('boolean');
    expect(f.uid).toBe(process.getuid!());
    expect(f.uidMap).toMatch(/^\d+ \d+ \d+/);
    expect(Array.isArray(f.hostDevices)).toBe(true);
    expect(f.hostDevices).not.toContain('/dev/null');
  });

  it('times system calls in-process and refuses unbounded counts', async () => {
    const r = await request(server.port, { path: '/vmbench/syscalls?calls=20000' });
    expect(r.status).toBe(200);
    const t = json(r);
    expect(t.getuid.calls).toBe(20000);
    expect(t.getuid.nsPerCall).toBeGreaterThan(10);
    expect(t.getuid.nsPerCall).toBeLessThan(1e6);
    expect(t.stat.calls).toBe(2000);
    expect(t.stat.nsPerCall).toBeGreaterThan(t.getuid.nsPerCall / 10);
    for (const bad of ['0', '999', '2000001', 'x', '1.5']) {
      const b = await request(server.port, { path: `/vmbench/syscalls?calls=${bad}` });
      expect(b.status, bad).toBe(400);
    }
  });
});

describe('shutdown', () => {
  it('exits 0 within 2 s of SIGTERM, even with an idle keep-alive connection open', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const r = await request(server.port, { path: '/v2/health/live', agent });
    expect(r.status).toBe(200);
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const { code, signal, at } = await server.exited;
    agent.destroy();
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(at - t0).toBeLessThan(2000);
    console.log(`SIGTERM → exit: ${at - t0} ms`);
  });
});
