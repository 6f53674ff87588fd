import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BenchError, messageOf } from '../errors.js';
import { measureStartup } from '../measure/startup.js';
import { checkServer, formatChecks } from '../measure/v2-protocol/check.js';
import type { ProbeResponse } from '../loadgen/probe.js';
import { siteOf } from '../measure/load-site.js';
import { freePort } from '../platforms/host/ports.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { ServerCheck } from '../results/run-record.js';
import type { Scenario } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import { fixedInput } from '../workload/request-input.js';
import { builtinProtocol, V2_PATHS, type HttpRequestSpec, type ServerProtocol } from '../workload/server-protocol.js';

/**
 * The run's first step: what the harness will send its server, and whether
 * that server speaks the Open Inference Protocol. Every image with protocol
 * v2 is checked on one instance of one platform
 * (the first Docker platform — the quickest to launch — else the first)
 * before anything is measured; a server that fails is not measured (the
 * built-in server is checked by the tests, not per run). An
 * image with protocol: none is measured with its own readiness path and
 * request, and the record says it was not checked. A v2 model without a
 * request file gets its request generated from its metadata here, so every
 * measurement sends the same bytes.
 */

export interface ServerCheckContext {
  scenario: Scenario;
  artifact: Artifact;
  platforms: readonly Platform[];
  runId: string;
  /** Elements of one batch of the built-in model's input. */
  inputElements: () => Promise<number>;
  readyTimeoutMs: number;
  pollIntervalMs: number;
  signal: AbortSignal;
  info: (message: string) => void;
  warn: (message: string) => void;
}

export const CHECK_INSTANCE = 'protocol-0';

function sha256(b: Buffer | undefined): string {
  return createHash('sha256').update(b ?? Buffer.alloc(0)).digest('hex');
}

/** The protocol as the scenario states it (a generated request comes later, from the check). */
async function statedProtocol(s: Scenario, inputElements: () => Promise<number>): Promise<{ protocol: ServerProtocol; explicit: boolean }> {
  const w = s.workload;
  if (w.image === undefined) return { protocol: builtinProtocol(fixedInput(await inputElements(), w.seed + 1)), explicit: true };
  const v2 = (w.protocol ?? 'v2') === 'v2';
  const modelName = w.model_name ?? null;
  const readyPath = w.readiness ?? V2_PATHS.ready;
  let infer: HttpRequestSpec = { method: 'POST', path: modelName ? V2_PATHS.infer(modelName) : '/', headers: { 'content-type': 'application/json' } };
  const explicit = w.request?.body !== undefined;
  if (w.request) {
    const body = w.request.body ? await readFile(w.request.body) : undefined;
    infer = {
      method: w.request.method ?? 'POST',
      path: w.request.path ?? infer.path,
      headers: { 'content-type': w.request.content_type ?? 'application/json' },
      ...(body ? { body } : {}),
    };
  }
  return {
    protocol: { protocol: v2 ? 'v2' : 'none', modelName, readyPath, livePath: w.live ?? (v2 ? V2_PATHS.live : readyPath), infer, load: infer },
    explicit,
  };
}

function requestRecord(r: HttpRequestSpec, source: ServerCheck['request']['source']): ServerCheck['request'] {
  return { method: r.method, path: r.path, contentType: r.headers['content-type'] ?? null, bytes: r.body?.length ?? 0, sha256: sha256(r.body), source };
}

export async function checkRunServer(ctx: ServerCheckContext): Promise<{ protocol: ServerProtocol; record: ServerCheck }> {
  const t0 = performance.now();
  const s = ctx.scenario;
  const stated = await statedProtocol(s, ctx.inputElements);
  const workload = s.workload.image ?? 'builtin';
  const source: ServerCheck['request']['source'] = s.workload.image === undefined ? 'builtin' : stated.explicit ? 'file' : 'generated';
  const base = { workload, protocol: stated.protocol.protocol, modelName: stated.protocol.modelName, readyPath: stated.protocol.readyPath, livePath: stated.protocol.livePath };
  if (s.workload.image === undefined) {
    // The built-in server conforms by construction (test/workload/server/conformance.test.ts runs these
    // checks against it): a check instance per run would cost a launch — a whole VM boot under TCG in a
    // VM-only scenario — before anything is measured, and fail outside the plan, without a category.
    const reason = 'the built-in server: its Open Inference Protocol conformance is tested with the harness (test/workload/server/conformance.test.ts), not per run';
    return {
      protocol: stated.protocol,
      record: { ...base, checked: false, reason, platform: null, passed: null, checks: [], request: requestRecord(stated.protocol.infer, source), durationMs: performance.now() - t0 },
    };
  }
  if (stated.protocol.protocol === 'none') {
    const reason = 'workload.protocol: none — measured with the readiness path and request file given, not checked against the Open Inference Protocol';
    ctx.warn(`server: ${reason}`);
    return {
      protocol: stated.protocol,
      record: { ...base, checked: false, reason, platform: null, passed: null, checks: [], request: requestRecord(stated.protocol.infer, source), durationMs: performance.now() - t0 },
    };
  }
  const platform = ctx.platforms.find((p) => p.kind === 'docker') ?? ctx.platforms[0];
  if (!platform) throw new BenchError('internal', 'server check: no platform');
  ctx.info(`server: checking the Open Inference Protocol on ${platform.name}`);
  let instance: Instance | undefined;
  try {
    instance = await platform.launch({
      runId: ctx.runId,
      instanceId: `${platform.name}-${CHECK_INSTANCE}`.toLowerCase(),
      port: await freePort(),
      threads: s.workload.threads,
      modelName: stated.protocol.modelName ?? 'model',
    });
    // A server that never says it is ready still gets checked: the checks then say what it does answer.
    await measureStartup(instance, stated.protocol, { intervalMs: ctx.pollIntervalMs, requestTimeoutMs: 500, timeoutMs: ctx.readyTimeoutMs, signal: ctx.signal }).catch((err: unknown) => {
      if (ctx.signal.aborted) throw new BenchError('interrupted', 'run interrupted', { cause: err });
      ctx.warn(`server: ${platform.name} did not answer ${stated.protocol.readyPath} with 200 within ${ctx.readyTimeoutMs} ms (${messageOf(err)}); checking it anyway`);
    });
    const result = await checkServer({
      baseUrl: instance.baseUrl,
      send: async (req) => (await siteOf(instance!).probe(req)) as ProbeResponse, // a remote instance is reached on its host
      modelName: stated.protocol.modelName,
      ...(stated.explicit ? { request: stated.protocol.infer } : {}),
      batch: s.workload.batch,
      seed: s.workload.seed + 1,
      timeoutMs: Math.max(30_000, ctx.readyTimeoutMs / 2),
    });
    const lines = formatChecks(result);
    for (const l of lines) ctx.info(`server: ${l}`);
    if (!result.passed || !result.inferRequest) {
      const failed = result.checks.filter((c) => !c.ok);
      throw new BenchError('mismatch', `the server does not pass the Open Inference Protocol checks (${failed.length} of ${result.checks.length} failed on ${platform.name}):\n${lines.filter((l) => l.startsWith('✗')).join('\n')}`, {
        hint: 'fix the server, or measure it anyway with workload.protocol: none, readiness and request.body (the run then records that it was not checked); `bench check-server` runs the same checks',
      });
    }
    const infer = result.inferRequest;
    const protocol: ServerProtocol = { ...stated.protocol, infer, load: s.workload.image === undefined ? stated.protocol.load : infer };
    return {
      protocol,
      record: { ...base, checked: true, platform: platform.name, passed: true, checks: result.checks, request: requestRecord(infer, source), durationMs: performance.now() - t0 },
    };
  } finally {
    if (instance) await platform.stop(instance).catch((err: unknown) => ctx.warn(`server: stopping the check instance failed: ${messageOf(err)}`));
  }
}
