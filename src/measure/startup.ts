import { BenchError, messageOf } from '../errors.js';
import type { Instance } from '../platforms/platform.js';
import type { SitePollResult } from '../platforms/load-site.js';
import { builtinProtocol, V2_PATHS, type HttpRequestSpec, type ServerProtocol } from '../workload/server-protocol.js';
import { siteOf } from './load-site.js';
import type { Measurement, StepContext } from './measurement.js';
import { watchForDeath } from './death-watch.js';
import { phaseSampleValues } from './phases.js';

export interface ReadinessOptions {
  intervalMs: number;
  requestTimeoutMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  check?: () => void;
}

/**
 * Startup: launch() call → first HTTP 200 from GET of the server's readiness
 * path (/v2/health/ready for a v2 server). Returns milliseconds measured on
 * the monotonic clock and records `ready`.
 */
export async function measureStartup(instance: Instance, o: ReadinessOptions): Promise<{ ms: number; poll: SitePollResult }>;
export async function measureStartup(instance: Instance, protocol: Pick<ServerProtocol, 'readyPath'>, o: ReadinessOptions): Promise<{ ms: number; poll: SitePollResult }>;
export async function measureStartup(
  instance: Instance,
  a: ReadinessOptions | Pick<ServerProtocol, 'readyPath'>,
  b?: ReadinessOptions,
): Promise<{ ms: number; poll: SitePollResult }> {
  // (instance, options): the built-in server's readiness path, as before servers were pluggable.
  const readyPath = 'readyPath' in a ? a.readyPath : V2_PATHS.ready;
  const o = 'readyPath' in a ? b! : a;
  const poll = await siteOf(instance).pollUntilOk(
    { url: instance.baseUrl + readyPath, timeoutMs: o.requestTimeoutMs },
    { intervalMs: o.intervalMs, deadline: instance.lifecycle.launch + o.timeoutMs, signal: o.signal, check: o.check },
  );
  instance.lifecycle.ready = poll.at;
  return { ms: poll.at - instance.lifecycle.launch, poll };
}

/**
 * Cold start: launch() call → first successful inference (HTTP 200 to the
 * run's one inference request: for the built-in server POST
 * /v2/models/{name}/infer with the fixed raw float32 input).
 * Before the model is loaded and warmed up the server answers 503 (or
 * refuses the connection); both are simply retried. An attempt that reached
 * the model may take as long as the deadline allows: abandoning it would
 * leave its inference running in the server, and every later attempt would
 * queue behind it (on a slow emulated guest, forever).
 */
export async function measureColdStart(instance: Instance, request: HttpRequestSpec, o: ReadinessOptions): Promise<{ ms: number; poll: SitePollResult }>;
export async function measureColdStart(instance: Instance, modelName: string, input: Buffer, o: ReadinessOptions): Promise<{ ms: number; poll: SitePollResult }>;
export async function measureColdStart(
  instance: Instance,
  a: HttpRequestSpec | string,
  b: ReadinessOptions | Buffer,
  c?: ReadinessOptions,
): Promise<{ ms: number; poll: SitePollResult }> {
  // (instance, modelName, input, options): the built-in server's raw float32 request.
  const request = typeof a === 'string' ? builtinProtocol(b as Buffer, a).infer : a;
  const o = typeof a === 'string' ? c! : (b as ReadinessOptions);
  const deadline = instance.lifecycle.launch + o.timeoutMs;
  // A POST that reached the model may take what is left of the deadline (each site computes it per attempt).
  const poll = await siteOf(instance).pollUntilOk(
    {
      url: instance.baseUrl + request.path,
      method: request.method,
      ...(request.body ? { body: request.body } : {}),
      headers: request.headers,
      timeoutMs: Math.max(o.requestTimeoutMs, deadline - performance.now()),
      connectTimeoutMs: o.requestTimeoutMs,
    },
    { intervalMs: o.intervalMs, deadline, signal: o.signal, check: o.check },
  );
  instance.lifecycle.firstInference = poll.at;
  return { ms: poll.at - instance.lifecycle.launch, poll };
}

/** Turns a failed wait into the right error kind: interrupted, or an infrastructure failure. */
export function waitFailure(ctx: Pick<StepContext, 'signal'>, what: string, cause: unknown): BenchError {
  if (cause instanceof BenchError) return cause;
  if (ctx.signal.aborted) return new BenchError('interrupted', 'run interrupted', { cause });
  return new BenchError('infrastructure', `${what} (${messageOf(cause)})`, {
    cause,
    category: 'boot_timeout', // refined to instance_died / oom_killed by the run's post-mortem of the instance
    hint: 'raise the timeout in the scenario, run with --verbose, or look at `bench doctor`',
  });
}

function pollOptions(ctx: StepContext, timeoutMs: number, check?: () => void): ReadinessOptions {
  return { intervalMs: ctx.pollIntervalMs, requestTimeoutMs: 200, timeoutMs, signal: ctx.signal, check };
}

/** A wait on an instance that ends at once if the instance dies (death-watch.ts). */
export async function whileAlive<T>(platform: StepContext['platform'], instance: Instance, wait: (check: () => void) => Promise<T>): Promise<T> {
  const watch = watchForDeath(platform, instance);
  try {
    return await wait(watch.check);
  } finally {
    watch.stop();
  }
}

/** What a launch-timed sample records beside its value. */
function launchMetadata(ctx: StepContext, instance: Instance, poll: SitePollResult, digest: string) {
  const lc = instance.lifecycle;
  const attempts = poll.attempts;
  return {
    poll_from: siteOf(instance).where,
    ...(poll.clockUncertaintyMs !== undefined ? { clock_uncertainty_ms: Number(poll.clockUncertaintyMs.toFixed(3)) } : {}),
    created_ms: lc.created === undefined ? null : lc.created - lc.launch,
    started_ms: lc.started === undefined ? null : lc.started - lc.launch,
    poll_attempts: attempts,
    poll_interval_ms: ctx.pollIntervalMs,
    rootfs_digest_inside: digest,
  };
}

/** startup: a fresh instance, launch → ready, and where that time went (phase_<name>, same launch). */
export const startupMeasurement: Measurement = {
  name: 'startup',
  uses: 'fresh',
  leaves: 'ready',
  rounds: (s) => (s.measurements.startup ? { rounds: s.measurements.startup.warmup + s.measurements.startup.repetitions, warmup: s.measurements.startup.warmup } : null),
  async run(ctx, s) {
    const timeoutMs = s.measurements.startup!.timeout;
    const instance = await ctx.launch();
    const measured = await whileAlive(ctx.platform, instance, (check) => measureStartup(instance, ctx.protocol, pollOptions(ctx, timeoutMs, check))).catch((cause: unknown) => {
      throw waitFailure(ctx, `${ctx.platform.name}: startup rep ${ctx.rep}: no readiness within ${timeoutMs} ms`, cause);
    });
    const digest = await ctx.digestInside(instance);
    ctx.emit({ metric: 'startup', value: measured.ms, unit: 'ms', metadata: launchMetadata(ctx, instance, measured.poll, digest) }, instance);
    if (ctx.platform.startupPhases) {
      for (const v of phaseSampleValues(await ctx.platform.startupPhases(instance))) ctx.emit({ ...v, quiet: true });
    }
  },
};

/** cold_start: a fresh instance, launch → first successful inference. */
export const coldStartMeasurement: Measurement = {
  name: 'cold_start',
  uses: 'fresh',
  leaves: 'answered',
  rounds: (s) => (s.measurements.cold_start ? { rounds: s.measurements.cold_start.warmup + s.measurements.cold_start.repetitions, warmup: s.measurements.cold_start.warmup } : null),
  async run(ctx, s) {
    const timeoutMs = s.measurements.cold_start!.timeout;
    const instance = await ctx.launch();
    const measured = await whileAlive(ctx.platform, instance, (check) => measureColdStart(instance, ctx.protocol.infer, pollOptions(ctx, timeoutMs, check))).catch((cause: unknown) => {
      throw waitFailure(ctx, `${ctx.platform.name}: cold_start rep ${ctx.rep}: no inference answer within ${timeoutMs} ms`, cause);
    });
    ctx.noteFirstInference(instance, measured.ms, measured.poll.response.body);
    const digest = await ctx.digestInside(instance);
    ctx.emit({ metric: 'cold_start', value: measured.ms, unit: 'ms', metadata: launchMetadata(ctx, instance, measured.poll, digest) }, instance);
  },
};
