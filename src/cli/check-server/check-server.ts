import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import { measureStartup } from '../../measure/startup.js';
import { checkServer, formatChecks, type CheckServerResult } from '../../measure/v2-protocol/check.js';
import { DockerPlatform, type DockerInstance } from '../../platforms/docker/docker-platform.js';
import { freePort } from '../../platforms/host/ports.js';
import { parseDuration } from '../../scenario/units.js';
import { buildImageArtifact } from '../../workload/build/image/build-image.js';
import { classifyImageRef } from '../../workload/build/image/source.js';
import { V2_PATHS, type HttpRequestSpec } from '../../workload/server-protocol.js';
import type { CliContext } from '../context.js';
import { action } from '../output.js';

interface CheckServerFlags {
  model?: string;
  env: string[];
  port?: string;
  user?: string;
  request?: string;
  timeout: string;
  json?: boolean;
}

function envFlags(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new BenchError('usage', `--env ${JSON.stringify(kv)}: expected KEY=VALUE`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function print(target: string, result: CheckServerResult, json: boolean): number {
  if (json) {
    const { metadata, checks, passed, modelName, baseUrl } = result;
    process.stdout.write(`${JSON.stringify({ target, baseUrl, modelName, passed, checks, metadata }, null, 2)}\n`);
  } else {
    process.stdout.write(`${target}: Open Inference Protocol (KServe v2) REST checks on ${result.baseUrl}${result.modelName ? `, model ${result.modelName}` : ''}\n`);
    for (const l of formatChecks(result)) process.stdout.write(`  ${l}\n`);
    const failed = result.checks.filter((c) => !c.ok).length;
    process.stdout.write(failed ? `${failed} of ${result.checks.length} checks failed\n` : `all ${result.checks.length} checks passed\n`);
  }
  return result.passed ? 0 : 1;
}

/**
 * `bench check-server <image|url>`: the run's server check on its own. An
 * image (local engine, `docker save` archive, OCI layout) becomes the same
 * artifact a run would make and is started as a container exactly as a run
 * starts it (bridge network, its port published on 127.0.0.1); a URL names
 * a server already running on this host.
 */
export function registerCheckServer(program: Command, ctx: CliContext): void {
  program
    .command('check-server')
    .description('check a model server against the Open Inference Protocol (KServe v2) REST API: health, metadata, model ready, an inference round trip, error bodies')
    .argument('<image|url>', 'an image in the local engine, a `docker save` archive, an OCI image layout directory, or http://127.0.0.1:PORT')
    .option('--model <name>', "the model's name (default: the one model the server's repository index lists)")
    .option('--env <KEY=VALUE>', "add to the image's environment (repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--port <n>', "the port the image's server listens on (default: its one EXPOSEd port)")
    .option('--user <user>', "run the image's server as this user (default: its USER)")
    .option('--request <file>', 'an inference request body (JSON) to send instead of one generated from the model metadata')
    .option('--timeout <duration>', 'how long the server may take to become ready', '120s')
    .option('--json', 'print the checks as JSON')
    .addHelpText(
      'after',
      `
One line per check, each with what was sent and what was expected:
  ✓ live                 GET /v2/health/live → HTTP 200 (expected HTTP 200 (the server is live))
  ✗ server_metadata      GET /v2 → HTTP 200; "extensions" must be an array of strings, got nothing; expected …
Every \`bench run\` makes the same checks first and measures nothing when they fail
(a server that is not v2 is measured with workload.protocol: none instead).

Examples:
  $ npx bench check-server vmbench-example/python-v2:latest --model dense
  $ npx bench check-server ./server.tar --model dense            # a docker save archive
  $ npx bench check-server http://127.0.0.1:8000 --model dense   # a server already running here

Exit codes: 0 every check passed · 1 a check failed · 2 bad flags · 3 the engine or the image could not be used`,
    )
    .action(
      action(async (target: string, flags: CheckServerFlags) => {
        const timeoutMs = parseDuration(flags.timeout);
        const requestBody = flags.request ? await readFile(resolve(flags.request)).catch((err: unknown) => {
          throw new BenchError('usage', `--request ${flags.request}: ${messageOf(err)}`);
        }) : undefined;
        const request = (model: string | null): HttpRequestSpec | undefined =>
          requestBody && model ? { method: 'POST', path: V2_PATHS.infer(model), headers: { 'content-type': 'application/json' }, body: requestBody } : undefined;
        if (/^https?:\/\//.test(target)) {
          const url = new URL(target);
          if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') throw new BenchError('usage', `${target}: only http://127.0.0.1:PORT is ever checked (the harness sends nothing anywhere else)`);
          const baseUrl = `http://127.0.0.1:${url.port || 80}`;
          await untilReady(baseUrl, timeoutMs, flags.timeout);
          const result = await checkServer({ baseUrl, modelName: flags.model ?? null, request: request(flags.model ?? null), timeoutMs: Math.min(timeoutMs, 60_000) });
          return print(target, result, flags.json === true);
        }
        return checkImage(ctx, target, flags, timeoutMs, request);
      }),
    );
}

/**
 * A server just started (`docker run … && bench check-server URL`) may not
 * accept connections yet, or still be loading its model: wait, as for an
 * image, until GET /v2/health/ready answers 200 (or the timeout passes,
 * then check anyway), so each check judges the protocol, not the start-up
 * race.
 */
async function untilReady(baseUrl: string, timeoutMs: number, timeoutFlag: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}${V2_PATHS.ready}`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = messageOf(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`check-server: ${V2_PATHS.ready} did not answer 200 within ${timeoutFlag} (last: ${last}); checking anyway\n`);
}

async function checkImage(ctx: CliContext, target: string, flags: CheckServerFlags, timeoutMs: number, request: (m: string | null) => HttpRequestSpec | undefined): Promise<number> {
  const docker = new Dockerode();
  const path = resolve(target);
  const source = await classifyImageRef(target, path);
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new BenchError('usage', `--port ${flags.port}: expected a TCP port`);
  const artifact = await buildImageArtifact({
    cacheDir: ctx.cacheDir,
    docker,
    workload: { source, overrides: { env: envFlags(flags.env), ...(port ? { port } : {}), ...(flags.user ? { user: flags.user } : {}) } },
    ...(flags.model ? { modelName: flags.model } : {}),
    onProgress: (e) => {
      if (e.status !== 'start') process.stderr.write(`build: ${e.step} ${e.status}${e.detail ? ` ${e.detail}` : ''}\n`);
    },
  });
  const runId = `check-${Date.now().toString(36)}`;
  const platform = new DockerPlatform('check', { cpus: 1, memoryBytes: 2 ** 31, network: 'bridge', runtime: 'runc' }, docker);
  await platform.prepare(artifact);
  let instance: DockerInstance | undefined;
  try {
    instance = await platform.launch({ runId, instanceId: 'server', port: await freePort(), threads: 1, modelName: flags.model ?? 'model' });
    await measureStartup(instance, { readyPath: V2_PATHS.ready }, { intervalMs: 50, requestTimeoutMs: 500, timeoutMs }).catch((err: unknown) => {
      process.stderr.write(`check-server: ${V2_PATHS.ready} did not answer 200 within ${flags.timeout} (${messageOf(err)}); checking anyway\n`);
    });
    const result = await checkServer({ baseUrl: instance.baseUrl, modelName: flags.model ?? null, request: request(flags.model ?? null), timeoutMs: 60_000 });
    return print(target, result, flags.json === true);
  } finally {
    if (instance) await platform.stop(instance).catch(() => undefined);
    await platform.cleanupRun(runId);
  }
}
