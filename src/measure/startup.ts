import { ENDPOINTS } from '../workload/contract.js';
import type { Instance } from '../platforms/platform.js';
import { pollUntil, probe, type PollResult } from './http-probe.js';

export interface ReadinessOptions {
  intervalMs: number;
  requestTimeoutMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  check?: () => void;
}

/**
 * Startup: launch() call → first HTTP 200 from GET /v2/health/ready.
 * Returns milliseconds measured on the monotonic clock and records `ready`.
 */
export async function measureStartup(instance: Instance, o: ReadinessOptions): Promise<{ ms: number; poll: PollResult }> {
  const poll = await pollUntil(
    () => probe({ url: instance.baseUrl + ENDPOINTS.ready, timeoutMs: o.requestTimeoutMs }),
    (r) => r.status === 200,
    { intervalMs: o.intervalMs, deadline: instance.lifecycle.launch + o.timeoutMs, signal: o.signal, check: o.check },
  );
  instance.lifecycle.ready = poll.at;
  return { ms: poll.at - instance.lifecycle.launch, poll };
}

/**
 * Cold start: launch() call → first successful inference (HTTP 200 on
 * POST /v2/models/{name}/infer with the run's fixed raw float32 input).
 * Before the model is loaded the server answers 503 (or refuses the
 * connection); both are simply retried.
 */
export async function measureColdStart(
  instance: Instance,
  modelName: string,
  input: Buffer,
  o: ReadinessOptions,
): Promise<{ ms: number; poll: PollResult }> {
  const poll = await pollUntil(
    () =>
      probe({
        url: instance.baseUrl + ENDPOINTS.infer(modelName),
        method: 'POST',
        body: input,
        headers: { 'content-type': 'application/octet-stream' },
        // An inference takes far longer than a health check (much more under TCG).
        timeoutMs: Math.max(o.requestTimeoutMs, 30_000),
        connectTimeoutMs: o.requestTimeoutMs,
      }),
    (r) => r.status === 200,
    { intervalMs: o.intervalMs, deadline: instance.lifecycle.launch + o.timeoutMs, signal: o.signal, check: o.check },
  );
  return { ms: poll.at - instance.lifecycle.launch, poll };
}
