/**
 * Open loop at a constant arrival rate (wrk2 / k6 constant-arrival-rate):
 * request i is intended at t0 + i/rate, and its latency is measured from that
 * intended time, not from when it was actually written. A server that stalls
 * therefore shows the queueing delay of every request behind the stall
 * (coordinated omission corrected).
 *
 * One timer catches up: each tick sends every request whose intended time has
 * passed, then sleeps until the next one (Node timers: ≥ 1 ms, so requests may
 * leave up to ~1 ms late, and that lateness is part of their latency). Up to
 * maxConnections keep-alive connections each carry one request at a time; when
 * all are busy, due requests wait (counted as `late`) and go out as soon as a
 * connection frees, their latency still counting from the intended time.
 *
 * After the window, requests already due are still sent and awaited for at
 * most timeoutMs (the drain); whatever is then unfinished is `dropped`.
 */
import { Connection, type ConnectionEvents } from './connection.js';
import { checkDuration, checkNumber, checkTimeout, sweepIntervalMs } from './options.js';
import { cpuOver, RunRecorder, type LoadResult, type StopReason } from './result.js';
import { resolveTarget, type TargetSpec } from './target.js';

export interface OpenLoopOptions {
  target: TargetSpec;
  /** Arrival rate, requests per second. */
  rate: number;
  /** Measured window, after warm-up. */
  durationMs: number;
  warmupMs?: number;
  /** Per request, from when it was written; also the longest drain after the window. */
  timeoutMs: number;
  /** Cap on concurrent requests (= connections). */
  maxConnections?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_CONNECTIONS = 256;
export const MAX_RATE = 1_000_000;

export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const target = resolveTarget(options.target);
  const rate = checkNumber('rate', options.rate, { min: 0.001, max: MAX_RATE });
  const durationMs = checkDuration('durationMs', options.durationMs);
  const warmupMs = checkDuration('warmupMs', options.warmupMs ?? 0, 0);
  const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs);
  const maxConnections = checkNumber('maxConnections', options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, {
    min: 1,
    max: 10_000,
    integer: true,
  });
  const signal = options.signal;

  return new Promise((resolve) => {
    const rec = new RunRecorder();
    const intervalMs = 1000 / rate;
    const start = performance.now();
    const windowStart = start + warmupMs;
    const windowEnd = windowStart + durationMs;
    /** Requests i = 0 … total-1 have start + i·interval < windowEnd; those ≥ firstMeasured are in the window. */
    const total = Math.ceil(((warmupMs + durationMs) * rate) / 1000 - 1e-9);
    const firstMeasured = Math.min(total, Math.ceil((warmupMs * rate) / 1000 - 1e-9));
    const intended = (i: number): number => start + i * intervalMs;

    const all: Connection[] = [];
    const idle: Connection[] = [];
    let due = 0; // requests whose intended time has come
    let sent = 0; // requests written (always in order)
    let lateUpTo = 0;
    let late = 0;
    let busy = 0;
    let lastRecorded = 0;
    let draining = false;
    let done = false;
    let cpuStart: NodeJS.CpuUsage | null = null;
    let tickTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const markWindow = (): void => {
      cpuStart ??= process.cpuUsage();
    };

    const finish = (reason: StopReason): void => {
      if (done) return;
      done = true;
      const now = performance.now();
      const cpu = cpuStart === null ? { user: 0, system: 0 } : process.cpuUsage(cpuStart);
      clearTimeout(tickTimer);
      clearTimeout(drainTimer);
      clearTimeout(warmupTimer);
      clearInterval(sweeper);
      signal?.removeEventListener('abort', onAbort);
      for (const c of all) c.destroy();
      const measuredDue = Math.max(0, due - firstMeasured);
      const dropped = Math.max(0, measuredDue - rec.finished);
      // The window runs to its planned end, or further while its requests drained.
      const end = reason === 'signal' ? now : Math.max(windowEnd, lastRecorded);
      const durationMs = Math.max(0, end - windowStart);
      const cpuMs = Math.max(0, now - windowStart);
      resolve(
        rec.toResult({ mode: 'open', rate, connections: all.length, durationMs, cpu: cpuOver(cpu, cpuMs), stoppedBy: reason, late, dropped }),
      );
    };

    const maybeDone = (): void => {
      if (draining && sent === total && busy === 0) finish('duration');
    };

    const dispatch = (now: number): void => {
      while (sent < due) {
        let conn = idle.pop();
        if (conn === undefined) {
          if (all.length >= maxConnections) {
            const from = Math.max(lateUpTo, sent, firstMeasured);
            if (due > from) late += due - from;
            lateUpTo = Math.max(lateUpTo, due);
            return;
          }
          conn = new Connection(target, events);
          all.push(conn);
        }
        const i = sent++;
        const measured = i >= firstMeasured;
        if (measured) {
          markWindow();
          rec.sent += 1;
        }
        busy += 1;
        conn.send(now, intended(i), measured);
      }
    };

    const release = (conn: Connection, now: number): void => {
      busy -= 1;
      idle.push(conn);
      if (done) return;
      dispatch(now);
      maybeDone();
    };

    const events: ConnectionEvents = {
      response(conn, status, now) {
        if (conn.measured) {
          rec.response(status, now - conn.intendedAt);
          lastRecorded = now;
        }
        release(conn, now);
      },
      failure(conn, kind, _connectFailed, now) {
        if (conn.measured) rec.error(kind);
        release(conn, now);
      },
    };

    const tick = (): void => {
      if (done) return;
      const now = performance.now();
      due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
      dispatch(now);
      if (due < total) {
        tickTimer = setTimeout(tick, Math.max(1, intended(due) - performance.now()));
        return;
      }
      draining = true;
      drainTimer = setTimeout(() => finish('duration'), Math.max(0, windowEnd - performance.now()) + timeoutMs);
      maybeDone();
    };

    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of all) {
        if (!c.busy || now - c.sentAt < timeoutMs) continue;
        c.destroy();
        if (c.measured) rec.timeout();
        release(c, now);
        if (done) return;
      }
    }, sweepIntervalMs(timeoutMs));
    const warmupTimer = setTimeout(markWindow, warmupMs);
    const onAbort = (): void => finish('signal');
    if (signal?.aborted) return finish('signal');
    signal?.addEventListener('abort', onAbort, { once: true });

    if (warmupMs === 0) markWindow();
    if (total === 0) {
      draining = true;
      return maybeDone();
    }
    tick();
  });
}
