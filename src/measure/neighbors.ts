import { messageOf } from '../errors.js';
import { resolveTarget, totalErrors, type LoadResult } from '../loadgen/index.js';
import type { Instance } from '../platforms/platform.js';
import type { NeighborsConfig } from '../scenario/schema.js';
import { onceIf, type Measurement, type SampleValue, type StepContext } from './measurement.js';
import { siteOf } from './load-site.js';
import { measureStartup, waitFailure } from './startup.js';
import { inferTarget } from './throughput.js';

/**
 * Noisy neighbours: how much one tenant suffers from others on the same host,
 * per substrate. A victim instance is held at a fixed open-loop rate — a
 * fraction (`load`) of its own one-connection throughput, measured alone
 * first — and its p50, p99 and throughput are recorded alone (K = 0) and then
 * with K neighbours of the same substrate beside it, each kept busy by a
 * closed loop of inference requests (as many connections as `connections`),
 * so each uses what its CPU quota allows. Neighbours are started one at a
 * time as K grows and all stopped at the end. The victim's window stretches
 * so that it holds at least MIN_REQUESTS requests at its rate (under TCG a
 * single inference takes seconds), up to MAX_WINDOW_MS.
 */

export const MIN_REQUESTS = 3;
export const MAX_WINDOW_MS = 300_000;

export interface NeighborPoint {
  neighbors: number;
  victim: LoadResult;
  /** Successful neighbour requests per second, all neighbours together. */
  neighborReqPerSec: number;
  neighborErrors: number;
}

/** The victim's measured window at `rate`: the configured duration, longer when the rate is too low to fill it. */
export function victimWindowMs(durationMs: number, rate: number): number {
  return Math.min(MAX_WINDOW_MS, Math.max(durationMs, Math.ceil((MIN_REQUESTS / rate) * 1000)));
}

export function neighborSampleValues(p: NeighborPoint, rate: number, load: number, alone: NeighborPoint | undefined): SampleValue[] {
  const v = p.victim;
  const params = { neighbors: p.neighbors };
  const metadata: SampleValue['metadata'] = {
    rate,
    load_fraction: load,
    window_ms: Math.round(v.durationMs),
    requests: v.requests,
    errors: totalErrors(v),
    timeouts: v.timeouts,
    neighbor_req_per_sec: Number(p.neighborReqPerSec.toFixed(3)),
    neighbor_errors: p.neighborErrors,
    p50_inflation: alone && alone.victim.requests && v.requests ? Number((v.latencyMs.p50 / alone.victim.latencyMs.p50).toFixed(4)) : null,
    p99_inflation: alone && alone.victim.requests && v.requests ? Number((v.latencyMs.p99 / alone.victim.latencyMs.p99).toFixed(4)) : null,
    histogram: v.histogram,
  };
  const out: SampleValue[] = [{ metric: 'neighbor_throughput', params, value: v.reqPerSec, unit: 'req/s', metadata }];
  if (v.requests > 0) {
    out.push({ metric: 'neighbor_p50', params, value: v.latencyMs.p50, unit: 'ms', metadata });
    out.push({ metric: 'neighbor_p99', params, value: v.latencyMs.p99, unit: 'ms', metadata });
  }
  return out;
}

async function readyInstance(ctx: StepContext, name: string): Promise<Instance> {
  const instance = await ctx.launch(name);
  await measureStartup(instance, ctx.protocol, { intervalMs: ctx.pollIntervalMs, requestTimeoutMs: 200, timeoutMs: ctx.readyTimeoutMs, signal: ctx.signal }).catch((cause: unknown) => {
    throw waitFailure(ctx, `${ctx.platform.name}: neighbors: ${name} not ready within ${ctx.readyTimeoutMs} ms`, cause);
  });
  await ctx.digestInside(instance);
  return instance;
}

/** One K: neighbours busy (closed loop) for the whole of the victim's open-loop window. */
async function measureAt(ctx: StepContext, cfg: NeighborsConfig, victim: Instance, neighbors: Instance[], rate: number): Promise<NeighborPoint> {
  const windowMs = victimWindowMs(cfg.duration, rate);
  const target = (i: Instance) => resolveTarget(inferTarget(i, ctx.protocol.load));
  const busy = neighbors.map((n) =>
    siteOf(n).closedLoop({ target: target(n), connections: cfg.connections, durationMs: windowMs + cfg.warmup, warmupMs: cfg.warmup, timeoutMs: cfg.timeout, signal: ctx.signal }),
  );
  // Let the neighbours get going before the victim's warm-up starts.
  const victimRun = siteOf(victim).openLoop({ target: target(victim), rate, durationMs: windowMs, warmupMs: cfg.warmup, timeoutMs: cfg.timeout, signal: ctx.signal });
  const [v, ...ns] = await Promise.all([victimRun, ...busy]);
  return {
    neighbors: neighbors.length,
    victim: v!,
    neighborReqPerSec: ns.reduce((a, r) => a + r.reqPerSec, 0),
    neighborErrors: ns.reduce((a, r) => a + totalErrors(r) + r.timeouts, 0),
  };
}

export const neighborsMeasurement: Measurement = {
  name: 'neighbors',
  uses: 'self',
  rounds: (s) => onceIf(s.measurements.neighbors),
  async run(ctx, s) {
    const cfg = s.measurements.neighbors!;
    const { platform } = ctx;
    const victim = await readyInstance(ctx, 'victim');
    const target = resolveTarget(inferTarget(victim, ctx.protocol.load));
    // One request first: its latency sizes the capacity window (seconds per inference under TCG).
    const first = await siteOf(victim).closedLoop({ target, connections: 1, durationMs: cfg.timeout, maxRequests: 1, timeoutMs: cfg.timeout, signal: ctx.signal });
    const oneMs = first.requests ? first.latencyMs.max : cfg.timeout;
    const capacity = await siteOf(victim).closedLoop({
      target,
      connections: 1,
      durationMs: Math.min(MAX_WINDOW_MS, Math.max(cfg.duration / 2, 5_000, 3 * oneMs)),
      warmupMs: cfg.warmup,
      timeoutMs: cfg.timeout,
      signal: ctx.signal,
    });
    if (capacity.requests === 0) {
      ctx.warn(`${platform.name}: neighbors: the victim answered no request in its capacity probe (${capacity.timeouts} timeouts at ${cfg.timeout} ms); not measured`);
      return;
    }
    const rate = cfg.load * capacity.reqPerSec;
    ctx.info(`${platform.name}: neighbors: victim capacity ${capacity.reqPerSec.toFixed(2)} req/s at 1 connection → rate ${rate.toFixed(3)} req/s`);
    const neighbors: Instance[] = [];
    let alone: NeighborPoint | undefined;
    for (const k of [0, ...[...new Set(cfg.counts)].sort((a, b) => a - b)]) {
      ctx.throwIfAborted();
      while (neighbors.length < k) neighbors.push(await readyInstance(ctx, `n${neighbors.length + 1}`));
      const point = await measureAt(ctx, cfg, victim, neighbors, rate);
      if (k === 0) alone = point;
      for (const v of neighborSampleValues(point, rate, cfg.load, alone)) ctx.emit(v, victim);
      const p99 = point.victim.requests ? `${point.victim.latencyMs.p99.toFixed(1)} ms` : 'no answer';
      ctx.info(`${platform.name}: neighbors K=${k}: victim p99 ${p99}, ${point.victim.reqPerSec.toFixed(2)} req/s; neighbours ${point.neighborReqPerSec.toFixed(2)} req/s`);
      if (point.victim.requests === 0) ctx.warn(`${platform.name}: neighbors K=${k}: the victim answered no request in ${Math.round(point.victim.durationMs)} ms; no latency recorded`);
    }
    for (const n of neighbors.reverse()) await ctx.stop(n).catch((err: unknown) => ctx.warn(`${platform.name}: stopping neighbour ${n.id}: ${messageOf(err)}`));
  },
};
