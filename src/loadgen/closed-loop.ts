/**
 * Closed loop (wrk / autocannon style): N keep-alive connections, each sending
 * its next request as soon as the previous answer arrives. Warm-up requests
 * are sent but not recorded; a request counts when it was sent inside the
 * measured window and finished before the window closed. Requests still in
 * flight at the end are abandoned uncounted (as wrk does).
 *
 * Stops at durationMs or after maxRequests measured requests, whichever comes
 * first, or when the signal aborts (the partial result is returned).
 */
import { Connection, type ConnectionEvents } from './connection.js';
import { checkDuration, checkNumber, checkTimeout, sweepIntervalMs } from './options.js';
import { cpuOver, RunRecorder, type LoadResult, type StopReason } from './result.js';
import { resolveTarget, type TargetSpec } from './target.js';

export interface ClosedLoopOptions {
  target: TargetSpec;
  connections: number;
  /** Measured window, after warm-up. */
  durationMs: number;
  warmupMs?: number;
  /** Per request: no answer within this long is a timeout (the connection is replaced). */
  timeoutMs: number;
  /** Stop after this many measured requests were sent and finished. */
  maxRequests?: number;
  signal?: AbortSignal;
}

/** After a failed connect, wait this long before retrying that connection. */
const CONNECT_RETRY_MS = 20;

export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const target = resolveTarget(options.target);
  const connections = checkNumber('connections', options.connections, { min: 1, max: 10_000, integer: true });
  const durationMs = checkDuration('durationMs', options.durationMs);
  const warmupMs = checkDuration('warmupMs', options.warmupMs ?? 0, 0);
  const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs);
  const maxRequests =
    options.maxRequests === undefined
      ? Infinity
      : checkNumber('maxRequests', options.maxRequests, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  const signal = options.signal;

  return new Promise((resolve) => {
    const rec = new RunRecorder();
    const start = performance.now();
    const windowStart = start + warmupMs;
    const windowEnd = windowStart + durationMs;
    let cpuStart: NodeJS.CpuUsage | null = null;
    let measuredInFlight = 0;
    let done = false;

    const markWindow = (): void => {
      cpuStart ??= process.cpuUsage();
    };
    const finish = (reason: StopReason, now = performance.now()): void => {
      if (done) return;
      done = true;
      const cpu = cpuStart === null ? { user: 0, system: 0 } : process.cpuUsage(cpuStart);
      clearTimeout(warmupTimer);
      clearTimeout(endTimer);
      clearInterval(sweeper);
      signal?.removeEventListener('abort', onAbort);
      for (const c of conns) c.destroy();
      const windowMs = Math.max(0, now - windowStart);
      resolve(rec.toResult({ mode: 'closed', connections, durationMs: windowMs, cpu: cpuOver(cpu, windowMs), stoppedBy: reason }));
    };

    const next = (conn: Connection, now: number): void => {
      if (done) return;
      if (now >= windowEnd) return finish('duration', windowEnd);
      const measured = now >= windowStart;
      if (measured && rec.sent >= maxRequests) {
        if (measuredInFlight === 0) finish('maxRequests', now);
        return;
      }
      if (measured) {
        markWindow();
        rec.sent += 1;
        measuredInFlight += 1;
      }
      conn.send(now, now, measured);
    };
    const ended = (conn: Connection): void => {
      if (conn.measured) measuredInFlight -= 1;
    };

    const events: ConnectionEvents = {
      response(conn, status, now) {
        ended(conn);
        if (conn.measured && now <= windowEnd) rec.response(status, now - conn.sentAt);
        next(conn, now);
      },
      failure(conn, kind, connectFailed, now) {
        ended(conn);
        if (conn.measured && now <= windowEnd) rec.error(kind);
        if (connectFailed) setTimeout(() => next(conn, performance.now()), CONNECT_RETRY_MS);
        else next(conn, now);
      },
    };

    const conns = Array.from({ length: connections }, () => new Connection(target, events));
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of conns) {
        if (!c.busy || now - c.sentAt < timeoutMs) continue;
        c.destroy();
        ended(c);
        if (c.measured && now <= windowEnd) rec.timeout();
        next(c, now);
      }
    }, sweepIntervalMs(timeoutMs));
    const warmupTimer = setTimeout(markWindow, warmupMs);
    const endTimer = setTimeout(() => finish('duration', Math.min(performance.now(), windowEnd)), warmupMs + durationMs);
    const onAbort = (): void => finish('signal');
    if (signal?.aborted) return finish('signal');
    signal?.addEventListener('abort', onAbort, { once: true });

    if (warmupMs === 0) markWindow();
    for (const c of conns) next(c, performance.now());
  });
}
