/**
 * The server restarts a crashed inference worker. The server (engine.mjs) loads
 * ./infer-worker.mjs next to itself, so this test copies the server's modules into a
 * temporary directory beside a fake worker that speaks the same protocol and
 * crashes on demand (no test hooks in the real server).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SERVER_PATH, freePort, json, postJson, request, waitFor, type RunningServer } from './spawn-server.js';

const FAKE_WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({
  type: 'loaded',
  inputs: [{ name: 'x', isTensor: true, type: 'float32', shape: ['N', 2] }],
  outputs: [{ name: 'y', isTensor: true, type: 'float32', shape: ['N', 2] }],
  ortVersion: 'fake',
  loadMs: 1,
});
parentPort.on('message', (m) => {
  if (m.type !== 'infer') return;
  const x = m.feeds[0].data;
  // Crash a moment after receiving the poison, so that a request sent at the same
  // time is surely queued behind it (on a loaded machine it can arrive later).
  if (x[0] === 666) return void setTimeout(() => { throw new Error('boom'); }, 300); // uncaught: the worker dies
  if (x[0] === 777) return void setTimeout(() => process.exit(7), 300); // in a worker this ends only the thread
  const y = x.map((v) => v * 2);
  setTimeout(() => parentPort.postMessage({ type: 'result', id: m.id, runMs: 0, outputs: [{ name: 'y', type: 'float32', dims: m.feeds[0].dims, data: y }] }), 20);
});
`;

let dir: string;
let server: Pick<RunningServer, 'port' | 'stderr'> & { kill(): void; exitCode(): number | null };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-worker-crash-'));
  const serverDir = dirname(SERVER_PATH);
  for (const name of await readdir(serverDir)) {
    if (name.endsWith('.mjs') && name !== 'infer-worker.mjs') await copyFile(join(serverDir, name), join(dir, name));
  }
  await writeFile(join(dir, 'infer-worker.mjs'), FAKE_WORKER);
  const port = await freePort();
  const child = spawn(process.execPath, [join(dir, 'server.mjs')], {
    cwd: dir,
    env: { ...process.env, VMBENCH_HOST: '127.0.0.1', VMBENCH_PORT: String(port), VMBENCH_MODEL: join(dir, 'unused.onnx') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
  server = { port, stderr, kill: () => child.kill('SIGKILL'), exitCode: () => child.exitCode };
  await waitReady();
});

afterAll(async () => {
  server?.kill();
  await rm(dir, { recursive: true, force: true });
});

async function waitReady(): Promise<void> {
  await waitFor('ready', async () => ((await request(server.port, { path: '/v2/health/ready' })).status === 200 ? true : undefined), 20_000, 10);
}

const infer = (data: number[]) => postJson(server.port, '/v2/models/model/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data }] });

it('reads metadata from the worker, whatever the model', async () => {
  const r = await request(server.port, { path: '/v2/models/model' });
  expect(json(r)).toEqual({
    name: 'model',
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
  });
  const ok = await infer([1, 2]);
  expect(json(ok).outputs[0]).toEqual({ name: 'y', shape: [1, 2], datatype: 'FP32', data: [2, 4] });
});

it.each([
  ['throws', 666],
  ['exits', 777],
])('answers 500 when the worker %s mid-request, restarts it, and serves queued requests', async (_how, poison) => {
  const [crashed, queued] = await Promise.all([infer([poison, 0]), infer([5, 6])]);
  expect(crashed.status).toBe(500);
  expect(json(crashed).error).toMatch(/inference worker crashed/);
  // The request queued behind the crash is served by the restarted worker.
  expect(queued.status).toBe(200);
  expect(json(queued).outputs[0].data).toEqual([10, 12]);
  await waitReady();
  expect(json(await infer([3, 4])).outputs[0].data).toEqual([6, 8]);
  expect(server.exitCode()).toBeNull();
  expect(server.stderr.join('')).toMatch(/restarted/);
});
