import { messageOf } from '../../errors.js';
import type { HttpRequestSpec } from '../../workload/server-protocol.js';
import { V2_PATHS } from '../../workload/server-protocol.js';
import { generateV2Request } from '../../workload/v2/generate-request.js';
import {
  asModelMetadata,
  errorBodyProblems,
  inferResponseProblems,
  modelMetadataProblems,
  parseJson,
  serverMetadataProblems,
  type ModelMetadata,
} from '../../workload/v2/messages.js';
import { probe, type ProbeRequest, type ProbeResponse } from '../../loadgen/probe.js';

/**
 * The Open Inference Protocol (KServe v2) REST surface of a running server,
 * checked one endpoint at a time: health live and ready, server metadata,
 * model metadata, model ready, an inference round trip, and error bodies for
 * a bad request and an unknown model. Every check says what it sent, what it
 * expected and what came back; a check that cannot run (no metadata to build
 * a request from) fails and says why. Only 127.0.0.1 is ever sent anything.
 */

export type CheckId = 'live' | 'ready' | 'server_metadata' | 'model_metadata' | 'model_ready' | 'infer' | 'error_bad_request' | 'error_unknown_model';

export interface ProtocolCheck {
  id: CheckId;
  /** e.g. "GET /v2/health/live" */
  request: string;
  expected: string;
  ok: boolean;
  /** What came back (status and, on failure, every problem found). */
  got: string;
}

export interface CheckServerOptions {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** The v2 model name; absent: asked of the repository extension (POST /v2/repository/index), else a failed check. */
  modelName?: string | null;
  /** An explicit inference request; absent: generated from the model metadata. */
  request?: HttpRequestSpec;
  batch?: number;
  seed?: number;
  timeoutMs?: number;
  /** How requests reach the server (default: from this process; a remote instance's go through its host's site). */
  send?: (req: ProbeRequest) => Promise<ProbeResponse>;
}

export interface CheckServerResult {
  baseUrl: string;
  modelName: string | null;
  checks: ProtocolCheck[];
  passed: boolean;
  metadata: ModelMetadata | null;
  /** The inference request the round trip sent (the run's request when it generated one). */
  inferRequest: HttpRequestSpec | null;
  inferResponse: ProbeResponse | null;
}

const BAD_REQUEST_BODY = Buffer.from('{"inputs": [ this is not JSON');

function describe(res: ProbeResponse | Error): string {
  return res instanceof Error ? `no answer (${res.message})` : `HTTP ${res.status}`;
}

export async function checkServer(o: CheckServerOptions): Promise<CheckServerResult> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const send = async (method: 'GET' | 'POST', path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<ProbeResponse | Error> => {
    try {
      return await (o.send ?? probe)({ url: o.baseUrl + path, method, body, headers, timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 2000) });
    } catch (err) {
      return new Error(messageOf(err));
    }
  };
  const checks: ProtocolCheck[] = [];
  const add = (id: CheckId, request: string, expected: string, problems: string[], res: ProbeResponse | Error | null) =>
    checks.push({ id, request, expected, ok: problems.length === 0, got: [res ? describe(res) : 'not sent', ...problems].join('; ') });

  const health = async (id: CheckId, path: string, what: string) => {
    const res = await send('GET', path);
    const problems = res instanceof Error ? ['the server did not answer'] : res.status === 200 ? [] : [`expected 200, got ${res.status}`];
    add(id, `GET ${path}`, `HTTP 200 (${what})`, problems, res);
  };
  await health('live', V2_PATHS.live, 'the server is live');
  await health('ready', V2_PATHS.ready, 'every model is ready');

  const server = await send('GET', V2_PATHS.server);
  add('server_metadata', `GET ${V2_PATHS.server}`, 'HTTP 200 with {"name": string, "version": string, "extensions": [string]}', jsonProblems(server, serverMetadataProblems), server);

  const modelName = o.modelName ?? (await repositoryModel(send));
  let metadata: ModelMetadata | null = null;
  if (modelName === null) {
    const why = ['no model name: give it (bench check-server --model NAME, or workload.model_name); the server has no repository index naming exactly one model'];
    for (const [id, req] of [['model_metadata', 'GET /v2/models/{name}'], ['model_ready', 'GET /v2/models/{name}/ready'], ['infer', 'POST /v2/models/{name}/infer']] as const) {
      add(id, req, 'a model to ask about', why, null);
    }
  } else {
    const metaPath = V2_PATHS.model(modelName);
    const meta = await send('GET', metaPath);
    const metaProblems = jsonProblems(meta, (v) => modelMetadataProblems(v, modelName));
    add('model_metadata', `GET ${metaPath}`, `HTTP 200 with {"name": "${modelName}", "platform": string, "inputs": [tensor], "outputs": [tensor]}, tensor = {"name", "datatype", "shape"}`, metaProblems, meta);
    if (metaProblems.length === 0 && !(meta instanceof Error)) metadata = asModelMetadata(JSON.parse(meta.body.toString('utf8')));
    await health('model_ready', V2_PATHS.modelReady(modelName), `model ${modelName} is ready`);
  }

  let inferRequest: HttpRequestSpec | null = null;
  let inferResponse: ProbeResponse | null = null;
  if (modelName !== null) {
    const path = o.request?.path ?? V2_PATHS.infer(modelName);
    const expected = 'HTTP 200 with {"model_name", "id" (echoed), "outputs": [{"name", "shape", "datatype", "data"}]} matching the metadata';
    let id: string | undefined;
    if (o.request) {
      inferRequest = o.request;
    } else if (metadata) {
      try {
        const g = generateV2Request(metadata, { batch: o.batch ?? 1, seed: o.seed ?? 1 });
        id = g.id;
        inferRequest = { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: g.body };
      } catch (err) {
        add('infer', `POST ${path}`, expected, [`cannot generate a request from the metadata: ${messageOf(err)}`], null);
      }
    } else {
      add('infer', `POST ${path}`, expected, ['cannot build a request: the model metadata check failed (give a request body to check inference anyway)'], null);
    }
    if (inferRequest) {
      const res = await send(inferRequest.method, inferRequest.path, inferRequest.body, inferRequest.headers);
      if (!(res instanceof Error) && res.status === 200) inferResponse = res;
      const problems = jsonProblems(res, (v) => inferResponseProblems(v, { model: modelName, id, outputs: metadata?.outputs }));
      add('infer', `${inferRequest.method} ${inferRequest.path}`, expected, problems, res);
    }
    const bad = await send('POST', V2_PATHS.infer(modelName), BAD_REQUEST_BODY, { 'content-type': 'application/json' });
    add('error_bad_request', `POST ${V2_PATHS.infer(modelName)} (a body that is not JSON)`, 'HTTP 4xx with {"error": string}', bad instanceof Error ? ['the server did not answer'] : errorBodyProblems(bad.status, bad.body), bad);
    const missing = V2_PATHS.model(`${modelName}-vmbench-no-such-model`);
    const unknown = await send('GET', missing);
    add('error_unknown_model', `GET ${missing}`, 'HTTP 4xx with {"error": string}', unknown instanceof Error ? ['the server did not answer'] : errorBodyProblems(unknown.status, unknown.body), unknown);
  }
  return { baseUrl: o.baseUrl, modelName, checks, passed: checks.every((c) => c.ok), metadata, inferRequest, inferResponse };
}

/** 200 and a JSON body that `problems` finds nothing wrong with. */
function jsonProblems(res: ProbeResponse | Error, problems: (v: unknown) => string[]): string[] {
  if (res instanceof Error) return ['the server did not answer'];
  const out = res.status === 200 ? [] : [`expected 200, got ${res.status}`];
  const parsed = parseJson(res.body);
  if (!parsed.ok) return [...out, `expected a JSON body, got ${parsed.problem}`];
  return [...out, ...problems(parsed.value)];
}

/** The one model a server's repository index lists (an optional v2 extension), else null. */
async function repositoryModel(send: (m: 'POST', p: string, b?: Buffer, h?: Record<string, string>) => Promise<ProbeResponse | Error>): Promise<string | null> {
  const res = await send('POST', '/v2/repository/index', Buffer.from('{}'), { 'content-type': 'application/json' });
  if (res instanceof Error || res.status !== 200) return null;
  const parsed = parseJson(res.body);
  if (!parsed.ok || !Array.isArray(parsed.value)) return null;
  const names = parsed.value.map((m: unknown) => (typeof m === 'object' && m !== null ? (m as { name?: unknown }).name : undefined)).filter((n): n is string => typeof n === 'string');
  return names.length === 1 ? names[0]! : null;
}

/** One line per check: ✓/✗, the check, the request, and — always — what was expected; what came back on failure. */
export function formatChecks(result: CheckServerResult): string[] {
  const width = Math.max(...result.checks.map((c) => c.id.length));
  return result.checks.map((c) =>
    c.ok
      ? `✓ ${c.id.padEnd(width)}  ${c.request} → ${c.got} (expected ${c.expected})`
      : `✗ ${c.id.padEnd(width)}  ${c.request} → ${c.got}; expected ${c.expected}`,
  );
}
