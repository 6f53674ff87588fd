/**
 * The outcome of one load run, and the recorder that builds it. Only requests
 * in the measured window (after warm-up) are counted: responses with a 2xx
 * status are `requests` and go into the latency histogram; other statuses and
 * socket failures are `errors` by kind; unanswered ones are `timeouts`.
 */
import { LatencyHistogram, type LatencySummaryMs } from './histogram.js';

export type { LatencySummaryMs } from './histogram.js';

export interface LoadgenCpu {
  userMs: number;
  systemMs: number;
  /** (user + system) / wall time of the measured window. */
  cores: number;
  /** cores ≥ 0.9: the generator (single-threaded) may be the bottleneck. */
  saturated: boolean;
}

export type StopReason = 'duration' | 'maxRequests' | 'signal';

export interface LoadResult {
  mode: 'closed' | 'open';
  /** Closed loop: the connection count; open loop: connections opened (peak concurrency). */
  connections?: number;
  /** Open loop: the target arrival rate, req/s. */
  rate?: number;
  /** Measured window, ms. */
  durationMs: number;
  /** Completed 2xx responses in the window (the histogram's count). */
  requests: number;
  /** Non-2xx statuses (`http_500`) and socket failures (`ECONNRESET`, `closed`, `protocol`, …). */
  errors: Record<string, number>;
  timeouts: number;
  reqPerSec: number;
  latencyMs: LatencySummaryMs;
  /** Encoded HdrHistogram of latencies in µs (see histogram.ts). */
  histogram: string;
  loadgenCpu: LoadgenCpu;
  /** Requests sent in the measured window. */
  sent: number;
  /** Open loop: requests that waited for a free connection (maxConnections all busy). */
  late?: number;
  /** Open loop: requests intended in the window that never finished (still queued or in flight at the end). */
  dropped?: number;
  stoppedBy: StopReason;
}

export const SATURATED_CORES = 0.9;

export function totalErrors(r: Pick<LoadResult, 'errors'>): number {
  let n = 0;
  for (const v of Object.values(r.errors)) n += v;
  return n;
}

/** Failed fraction: (errors + timeouts + dropped) / all requests that ended one way or another. */
export function errorRate(r: Pick<LoadResult, 'errors' | 'timeouts' | 'dropped' | 'requests'>): number {
  const failed = totalErrors(r) + r.timeouts + (r.dropped ?? 0);
  const all = failed + r.requests;
  return all === 0 ? 0 : failed / all;
}

export function cpuOver(usage: NodeJS.CpuUsage, wallMs: number): LoadgenCpu {
  const userMs = usage.user / 1000;
  const systemMs = usage.system / 1000;
  const cores = wallMs > 0 ? (userMs + systemMs) / wallMs : 0;
  return { userMs, systemMs, cores, saturated: cores >= SATURATED_CORES };
}

/** Collects the measured window's outcomes. */
export class RunRecorder {
  readonly histogram = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  requests = 0;
  timeouts = 0;
  sent = 0;
  /** Measured requests that ended: response, failure or timeout. */
  finished = 0;

  response(status: number, latencyMs: number): void {
    this.finished += 1;
    if (status >= 200 && status < 300) {
      this.requests += 1;
      this.histogram.recordMs(latencyMs);
    } else this.error(`http_${status}`, false);
  }

  error(kind: string, countFinished = true): void {
    if (countFinished) this.finished += 1;
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  timeout(): void {
    this.finished += 1;
    this.timeouts += 1;
  }

  toResult(base: {
    mode: LoadResult['mode'];
    connections?: number;
    rate?: number;
    durationMs: number;
    cpu: LoadgenCpu;
    stoppedBy: StopReason;
    late?: number;
    dropped?: number;
  }): LoadResult {
    const { cpu, ...rest } = base;
    const out: LoadResult = {
      mode: rest.mode,
      ...(rest.connections !== undefined ? { connections: rest.connections } : {}),
      ...(rest.rate !== undefined ? { rate: rest.rate } : {}),
      durationMs: rest.durationMs,
      requests: this.requests,
      errors: { ...this.errors },
      timeouts: this.timeouts,
      reqPerSec: rest.durationMs > 0 ? (this.requests * 1000) / rest.durationMs : 0,
      latencyMs: this.histogram.summaryMs(),
      histogram: this.histogram.encode(),
      loadgenCpu: cpu,
      sent: this.sent,
      ...(rest.late !== undefined ? { late: rest.late } : {}),
      ...(rest.dropped !== undefined ? { dropped: rest.dropped } : {}),
      stoppedBy: rest.stoppedBy,
    };
    return out;
  }
}
