import { BenchError } from '../errors.js';
import http from 'node:http';

export interface ProbeResponse {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

export interface ProbeRequest {
  url: string;
  method?: 'GET' | 'POST';
  body?: Buffer;
  headers?: Record<string, string>;
  /** Idle timeout for the whole request once connected. */
  timeoutMs: number;
  /**
   * Connect timeout (defaults to timeoutMs): short, so a dropped SYN is retried
   * by the poll loop instead of waiting for the kernel's 1 s SYN retransmit.
   */
  connectTimeoutMs?: number;
  /** Abort the request (a cancelled poll on a remote host's helper). */
  signal?: AbortSignal;
}

/**
 * Single requests and the readiness poll loop, shared by the controller
 * (measure/) and the helper on a remote host (platforms/remote/agent/), so
 * both poll the same way.
 *
 * One HTTP request on a fresh connection (agent: false): readiness polling must
 * not ride on a connection opened before the server was up.
 */
export function probe(req: ProbeRequest): Promise<ProbeResponse> {
  const url = new URL(req.url);
  if (url.hostname !== '127.0.0.1') {
    // Only loopback is ever a target of this harness.
    return Promise.reject(new BenchError('internal', `refusing to send traffic to ${url.hostname}: only 127.0.0.1 is allowed`));
  }
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: req.method ?? 'GET',
        headers: {
          ...(req.body ? { 'content-length': String(req.body.length) } : {}),
          ...req.headers,
        },
        agent: false,
        timeout: req.timeoutMs,
        signal: req.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout after ${req.timeoutMs} ms`)));
    const connectMs = req.connectTimeoutMs ?? req.timeoutMs;
    r.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => r.destroy(new Error(`connect timeout after ${connectMs} ms`)), connectMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

export interface PollOptions {
  /** Pause between attempts, ≤ 10 ms for startup metrics. */
  intervalMs: number;
  /** performance.now() deadline. */
  deadline: number;
  signal?: AbortSignal;
  /** Called between attempts; throw to stop early (e.g. the instance died). */
  check?: () => void;
}

export interface PollResult {
  /** performance.now() when the accepted response arrived. */
  at: number;
  attempts: number;
  response: ProbeResponse;
}

/** Repeats `attempt` until `accept` says yes, the deadline passes, or the signal aborts. */
export async function pollUntil(
  attempt: () => Promise<ProbeResponse>,
  accept: (res: ProbeResponse) => boolean,
  options: PollOptions,
): Promise<PollResult> {
  let attempts = 0;
  let last = 'no attempt made';
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new BenchError('interrupted', 'aborted');
    options.check?.();
    attempts += 1;
    try {
      const response = await attempt();
      const at = performance.now();
      if (accept(response)) return { at, attempts, response };
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() >= options.deadline) {
      throw new PollTimeout(`gave up after ${attempts} attempts; last: ${last}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}

export class PollTimeout extends Error {
  override name = 'PollTimeout';
}
