import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkServer, formatChecks, type CheckId } from '../../src/measure/v2-protocol/check.js';

/**
 * A fake Open Inference Protocol server on 127.0.0.1 that gets exactly the
 * named things wrong, so each check is shown to catch its own fault (and
 * only that one).
 */
type Fault =
  | 'live-404'
  | 'ready-503'
  | 'server-no-extensions'
  | 'model-wrong-name'
  | 'model-bad-datatype'
  | 'model-ready-404'
  | 'infer-no-id'
  | 'infer-short-data'
  | 'infer-500'
  | 'error-plain-text'
  | 'error-200'
  | 'unknown-model-200'
  | 'repository-index';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
});

async function fakeV2(faults: Fault[] = [], model = 'm'): Promise<{ url: string; seen: string[] }> {
  const f = new Set(faults);
  const seen: string[] = [];
  const json = (res: http.ServerResponse, status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
  const error = (res: http.ServerResponse, status: number, message: string) =>
    f.has('error-plain-text') ? res.writeHead(status, { 'content-type': 'text/plain' }).end(message) : json(res, f.has('error-200') ? 200 : status, { error: message });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push(`${req.method} ${path}`);
      if (path === '/v2/health/live') return void res.writeHead(f.has('live-404') ? 404 : 200).end();
      if (path === '/v2/health/ready') return void res.writeHead(f.has('ready-503') ? 503 : 200).end();
      if (path === '/v2') return void json(res, 200, f.has('server-no-extensions') ? { name: 'fake', version: '1' } : { name: 'fake', version: '1', extensions: [] });
      if (path === '/v2/repository/index' && f.has('repository-index')) return void json(res, 200, [{ name: model, state: 'READY' }]);
      if (path === `/v2/models/${model}`) {
        return void json(res, 200, {
          name: f.has('model-wrong-name') ? 'other' : model,
          platform: 'fake',
          inputs: [{ name: 'x', datatype: f.has('model-bad-datatype') ? 'float' : 'FP32', shape: [-1, 4] }],
          outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
        });
      }
      if (path === `/v2/models/${model}/ready`) return void res.writeHead(f.has('model-ready-404') ? 404 : 200).end();
      if (path === `/v2/models/${model}/infer` && req.method === 'POST') {
        let doc: { id?: string; inputs?: Array<{ shape: number[]; data: number[] }> };
        try {
          doc = JSON.parse(Buffer.concat(chunks).toString()) as typeof doc;
        } catch {
          return void error(res, 400, 'not JSON');
        }
        if (f.has('infer-500')) return void error(res, 500, 'boom');
        const rows = doc.inputs?.[0]?.shape[0] ?? 1;
        const data = Array.from({ length: rows * 2 - (f.has('infer-short-data') ? 1 : 0) }, (_, i) => i / 10);
        return void json(res, 200, { model_name: model, ...(f.has('infer-no-id') ? {} : { id: doc.id }), outputs: [{ name: 'y', shape: [rows, 2], datatype: 'FP32', data }] });
      }
      if (path.startsWith('/v2/models/')) return void (f.has('unknown-model-200') ? json(res, 200, {}) : error(res, 404, 'unknown model'));
      error(res, 404, 'no route');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const failed = (r: Awaited<ReturnType<typeof checkServer>>) => r.checks.filter((c) => !c.ok).map((c) => c.id);

describe('checkServer (Open Inference Protocol REST)', () => {
  it('passes a conforming server, one line per check with what was expected', async () => {
    const s = await fakeV2();
    const r = await checkServer({ baseUrl: s.url, modelName: 'm' });
    expect(failed(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(['live', 'ready', 'server_metadata', 'model_metadata', 'model_ready', 'infer', 'error_bad_request', 'error_unknown_model']);
    const lines = formatChecks(r);
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatch(/^✓ live +GET \/v2\/health\/live → HTTP 200 \(expected HTTP 200/);
    // The request was generated from the metadata: input x, batch 1 → shape [1, 4].
    const sent = JSON.parse(r.inferRequest!.body!.toString()) as { id: string; inputs: Array<{ name: string; shape: number[]; data: number[] }> };
    expect(sent.inputs[0]).toMatchObject({ name: 'x', shape: [1, 4] });
    expect(sent.inputs[0]!.data).toHaveLength(4);
    expect(r.metadata?.outputs[0]?.name).toBe('y');
  });

  const cases: Array<[Fault, CheckId, RegExp]> = [
    ['live-404', 'live', /expected 200, got 404/],
    ['ready-503', 'ready', /expected 200, got 503/],
    ['server-no-extensions', 'server_metadata', /"extensions" must be an array of strings, got nothing/],
    ['model-wrong-name', 'model_metadata', /"name" must be "m", got "other"/],
    ['model-ready-404', 'model_ready', /got 404/],
    ['infer-no-id', 'infer', /"id" must echo the request's "vmbench-1"/],
    ['infer-short-data', 'infer', /shape \[1, 2\] holds 2 elements, data has 1/],
    ['infer-500', 'infer', /expected 200, got 500/],
    ['error-plain-text', 'error_bad_request', /expected \{"error": "<message>"\}, got a body that is not JSON/],
    ['error-200', 'error_bad_request', /expected a 4xx status, got 200/],
    ['unknown-model-200', 'error_unknown_model', /expected a 4xx status, got 200/],
  ];
  it.each(cases)('%s fails exactly the %s check, saying what was wrong', async (fault, check, message) => {
    const s = await fakeV2([fault]);
    const r = await checkServer({ baseUrl: s.url, modelName: 'm' });
    const bad = failed(r);
    // error-plain-text and error-200 spoil both error checks: they are one fault in two places;
    // metadata that is wrong is not trusted to build the inference request from.
    if (fault === 'error-plain-text' || fault === 'error-200') expect(bad).toEqual(['error_bad_request', 'error_unknown_model']);
    else if (check === 'model_metadata') expect(bad).toEqual(['model_metadata', 'infer']);
    else expect(bad).toEqual([check]);
    expect(r.passed).toBe(false);
    const line = formatChecks(r).find((l) => l.includes(` ${check} `))!;
    expect(line.startsWith('✗')).toBe(true);
    expect(line).toMatch(message);
    expect(line).toContain('expected');
  });

  it('cannot build a request without valid metadata: the inference check fails and says why', async () => {
    const s = await fakeV2(['model-bad-datatype']);
    const r = await checkServer({ baseUrl: s.url, modelName: 'm' });
    expect(failed(r)).toEqual(['model_metadata', 'infer']);
    expect(r.checks.find((c) => c.id === 'infer')!.got).toMatch(/model metadata check failed/);
    expect(s.seen.filter((l) => l.startsWith('POST /v2/models/m/infer'))).toHaveLength(1); // only the bad-request probe
  });

  it('an explicit request body is sent as given', async () => {
    const s = await fakeV2();
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', data: new Array(12).fill(0) }] }));
    const r = await checkServer({ baseUrl: s.url, modelName: 'm', request: { method: 'POST', path: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, body } });
    expect(r.passed).toBe(true);
    expect(JSON.parse(r.inferResponse!.body.toString()).outputs[0].shape).toEqual([3, 2]);
  });

  it('finds the model through the repository index when no name is given, else fails the model checks', async () => {
    const withIndex = await fakeV2(['repository-index'], 'only');
    expect((await checkServer({ baseUrl: withIndex.url })).modelName).toBe('only');
    const without = await fakeV2([], 'only');
    const r = await checkServer({ baseUrl: without.url });
    expect(r.modelName).toBeNull();
    expect(failed(r)).toEqual(['model_metadata', 'model_ready', 'infer']);
    expect(formatChecks(r).join('\n')).toMatch(/give it \(bench check-server --model NAME/);
  });

  it('a server that is not there fails every check it can make, without hanging', async () => {
    const s = await fakeV2();
    const url = s.url;
    await Promise.all(servers.splice(0).map((x) => new Promise((r) => (x.closeAllConnections(), x.close(r)))));
    const r = await checkServer({ baseUrl: url, modelName: 'm', timeoutMs: 1000 });
    expect(r.passed).toBe(false);
    expect(r.checks.every((c) => !c.ok)).toBe(true);
    expect(r.checks[0]!.got).toMatch(/no answer/);
  });

  it('refuses any address but 127.0.0.1', async () => {
    const r = await checkServer({ baseUrl: 'http://10.0.0.1:8000', modelName: 'm', timeoutMs: 500 });
    expect(r.checks[0]!.got).toMatch(/only 127\.0\.0\.1 is allowed/);
  });
});
