/**
 * The built-in server against the same Open Inference Protocol checks a
 * user's server gets before it is measured (`bench check-server`, the run's
 * server check): the real server.mjs with a generated ResNet-18, on
 * 127.0.0.1. `bench run` does not check the built-in server per run (it would
 * cost a launch, a VM boot in a VM-only scenario); this test is why it need not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServer, formatChecks } from '../../../src/measure/v2-protocol/check.js';
import { ensureModel } from '../../../src/workload/model/model-cache.js';
import { fixedInput } from '../../../src/workload/request-input.js';
import { builtinProtocol } from '../../../src/workload/server-protocol.js';
import { startServer, waitReady, type RunningServer } from './spawn-server.js';

const NAME = 'model';
let cacheDir: string;
let server: RunningServer;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vmbench-conformance-'));
  const model = await ensureModel('resnet18', cacheDir);
  server = await startServer({ VMBENCH_MODEL: model.path, VMBENCH_MODEL_NAME: NAME, VMBENCH_THREADS: '1' });
  await waitReady(server);
}, 60_000);

afterAll(async () => {
  server?.kill();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('the built-in server speaks the Open Inference Protocol (KServe v2 REST)', () => {
  it('passes every check with a request generated from its own metadata', async () => {
    const r = await checkServer({ baseUrl: `http://127.0.0.1:${server.port}`, modelName: NAME, batch: 1, seed: 1, timeoutMs: 30_000 });
    expect(r.passed, formatChecks(r).join('\n')).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(['live', 'ready', 'server_metadata', 'model_metadata', 'model_ready', 'infer', 'error_bad_request', 'error_unknown_model']);
    expect(r.inferResponse?.status).toBe(200);
  }, 60_000);

  it('passes them with the raw float32 request every measurement sends', async () => {
    const request = builtinProtocol(fixedInput(3 * 224 * 224, 1), NAME).infer;
    const r = await checkServer({ baseUrl: `http://127.0.0.1:${server.port}`, modelName: NAME, request, timeoutMs: 30_000 });
    expect(r.passed, formatChecks(r).join('\n')).toBe(true);
    expect(r.inferRequest?.headers['content-type']).toBe('application/octet-stream');
  }, 60_000);
});
