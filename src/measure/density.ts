import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError, messageOf } from '../errors.js';
import { mergeEncoded, resolveTarget, totalErrors, type LoadResult } from '../loadgen/index.js';
import { localFs, type HostFs } from '../platforms/host/host-fs.js';
import { parseMeminfo } from '../platforms/host/proc-memory.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { DensityConfig } from '../scenario/schema.js';
import { decideDensityStep, marginalMemory, type DensityLimits, type DensityPoint, type DensityStopReason } from './density-model.js';
import { siteOf } from './load-site.js';
import { measureStartup } from './startup.js';
import type { HttpRequestSpec } from '../workload/server-protocol.js';
import { onceIf, type Measurement, type SampleValue } from './measurement.js';
import { inferTarget } from './throughput.js';

export {
  decideDensityStep,
  leastSquaresSlope,
  marginalMemory,
  probeErrorRate,
  projectNextMemory,
  type DensityLimits,
  type DensityPoint,
  type DensityStopReason,
  type DensityVerdict,
} from './density-model.js';

/**
 * Density: how many instances of one platform fit on this host at once
 * within a memory budget while each still answers within a p99 SLO.
 *
 * Instances are started one at a time. After each: wait for its readiness
 * (launch → ready is recorded), wait settleMs, read the host memory of every
 * running instance, then send a light probe load to every running instance at
 * once (default: open loop, 2 req/s per instance, 3 s) and merge their
 * latency histograms into one p99. Stop when the measured memory exceeds the
 * budget or the next instance would (projected from the least-squares slope
 * of memory vs instances), when p99 exceeds the SLO or probe requests fail,
 * when a launch or readiness fails, at max_instances, or when the signal
 * aborts. Every instance started is stopped before returning, whatever
 * happened. Only a failing `verify` hook makes it throw.
 *
 * Host memory is the sum of platform.memoryReading()'s host-attributable bytes
 * over the running instances ('platform-reading'); a platform without it falls
 * back to the drop of MemAvailable in /proc/meminfo since just before the
 * first launch ('host-memavailable-delta'), which also counts anything else
 * the host did meanwhile.
 */

export interface DensityDeps {
  /** Create and start one instance (not yet ready). */
  launch(instanceId: string): Promise<Instance>;
  stop(instance: Instance): Promise<void>;
  readyTimeoutMs: number;
  pollIntervalMs: number;
  /** The run's inference request, as the load generator sends it. */
  request: HttpRequestSpec;
  /** GET path answering 200 once an instance is ready. */
  readyPath: string;
  signal?: AbortSignal;
  /** Called with each measured point, as soon as it exists. */
  onStep?: (step: DensityPoint) => void;
  /**
   * Called once per instance after it is ready (e.g. the rootfs digest check).
   * If it throws (other than because the signal aborted), measureDensity stops
   * every instance and rethrows.
   */
  verify?: (instance: Instance) => Promise<void>;
}

export interface DensityProbeOptions {
  /** 'open': constant arrival rate per instance; 'closed': N connections per instance. */
  mode: 'open' | 'closed';
  /** Open loop: requests per second to each instance. */
  ratePerInstance: number;
  /** Closed loop: connections to each instance. */
  connectionsPerInstance: number;
  /** Measured window, ms. */
  durationMs: number;
  /** Unmeasured lead-in, ms. */
  warmupMs: number;
  /** Per-request timeout, ms (a timeout counts as a failed request). Default: max(5000, 2 × slo_p99). */
  timeoutMs?: number;
}

export interface DensityOptions {
  probe?: Partial<DensityProbeOptions>;
  /** Wait after the newest instance's readiness before reading memory, ms (default 2000). */
  settleMs?: number;
  /** Largest tolerated failed fraction of the probe requests of a step (default 0.01). */
  maxErrorRate?: number;
  /** Instance id of the n-th instance (1-based); default `${platform.name}-density-${n}`. */
  instanceId?: (n: number) => string;
  /** Host MemAvailable in bytes (for the fallback; tests). Default: /proc/meminfo. */
  readMemAvailable?: () => Promise<number>;
}

export const DEFAULT_DENSITY_PROBE: DensityProbeOptions = {
  mode: 'open',
  ratePerInstance: 2,
  connectionsPerInstance: 1,
  durationMs: 3000,
  warmupMs: 500,
};
export const DEFAULT_DENSITY_SETTLE_MS = 2000;
export const DEFAULT_DENSITY_MAX_ERROR_RATE = 0.01;

export type DensityMemoryMethod = 'platform-reading' | 'host-memavailable-delta';

export interface DensityResult {
  /** The largest instance count that met every limit (0 if none did). */
  maxInstances: number;
  stoppedBecause: DensityStopReason;
  /** Why it stopped, in words. */
  detail: string;
  curve: DensityPoint[];
  /** Least-squares slope of host memory vs instances, bytes; null with < 2 points. */
  marginalMemoryBytes: number | null;
  memoryMethod: DensityMemoryMethod;
  limits: DensityLimits;
  probe: Required<DensityProbeOptions>;
  /** The failure that stopped it (launch_failed, measure_failed). */
  error?: string;
  /** Anything else worth knowing (e.g. an instance that failed to stop). */
  notes: string[];
}

export async function readHostMemAvailable(path = '/proc/meminfo', fs: HostFs = localFs): Promise<number> {
  const v = parseMeminfo(await fs.readFile(path)).MemAvailable;
  if (v === undefined) throw new BenchError('infrastructure', `${path} has no MemAvailable`);
  return v;
}

function probeTarget(instance: Instance, deps: DensityDeps) {
  return resolveTarget(inferTarget(instance, deps.request));
}

/** The probe's part of a density point. */
type ProbeOutcome = Pick<DensityPoint, 'p99Ms' | 'p50Ms' | 'reqPerSec' | 'requests' | 'errors' | 'histogram'>;

/** The probe load on every instance at once; latencies merged over all of them. */
async function probeAll(instances: readonly Instance[], deps: DensityDeps, probe: Required<DensityProbeOptions>): Promise<ProbeOutcome> {
  const results: LoadResult[] = await Promise.all(
    instances.map((instance) => {
      const common = {
        target: probeTarget(instance, deps),
        durationMs: probe.durationMs,
        warmupMs: probe.warmupMs,
        timeoutMs: probe.timeoutMs,
        signal: deps.signal,
      };
      return probe.mode === 'open'
        ? siteOf(instance).openLoop({ ...common, rate: probe.ratePerInstance })
        : siteOf(instance).closedLoop({ ...common, connections: probe.connectionsPerInstance });
    }),
  );
  const hist = mergeEncoded(results.map((r) => r.histogram));
  const requests = hist.count;
  return {
    p99Ms: requests > 0 ? hist.percentileMs(99) : null,
    p50Ms: requests > 0 ? hist.percentileMs(50) : null,
    reqPerSec: results.reduce((s, r) => s + r.reqPerSec, 0),
    requests,
    errors: results.reduce((s, r) => s + totalErrors(r) + r.timeouts + (r.dropped ?? 0), 0),
    histogram: hist.encode(),
  };
}

class Stop {
  constructor(
    readonly reason: DensityStopReason,
    readonly detail: string,
    readonly error?: string,
  ) {}
}

export async function measureDensity(
  deps: DensityDeps,
  platform: Platform,
  config: DensityConfig,
  opts: DensityOptions = {},
): Promise<DensityResult> {
  const probe: Required<DensityProbeOptions> = {
    ...DEFAULT_DENSITY_PROBE,
    timeoutMs: Math.max(5000, 2 * config.slo_p99),
    ...Object.fromEntries(Object.entries(opts.probe ?? {}).filter(([, v]) => v !== undefined)),
  };
  const limits: DensityLimits = {
    maxInstances: config.max_instances,
    memoryBudgetBytes: config.memory_budget,
    sloP99Ms: config.slo_p99,
    maxErrorRate: opts.maxErrorRate ?? DEFAULT_DENSITY_MAX_ERROR_RATE,
  };
  const settleMs = opts.settleMs ?? DEFAULT_DENSITY_SETTLE_MS;
  const instanceId = opts.instanceId ?? ((n: number) => `${platform.name}-density-${n}`);
  const readMemAvailable = opts.readMemAvailable ?? (() => readHostMemAvailable('/proc/meminfo', platform.hostFs));
  const signal = deps.signal;
  const memoryMethod: DensityMemoryMethod = platform.memoryReading ? 'platform-reading' : 'host-memavailable-delta';

  const running: Instance[] = [];
  const curve: DensityPoint[] = [];
  const notes: string[] = [];
  let maxInstances = 0;
  let stop: Stop | undefined;

  const aborted = (): Stop => new Stop('aborted', 'interrupted');
  /** A failure in a stage: aborted if the signal fired, else the given reason. */
  const failed = (reason: DensityStopReason, what: string, err: unknown): Stop =>
    signal?.aborted ? aborted() : new Stop(reason, what, `${what}: ${messageOf(err)}`);

  const hostMemory = async (baseline: number | undefined): Promise<number> => {
    const reading = platform.memoryReading?.bind(platform);
    if (reading) {
      const all = await Promise.all(running.map((i) => reading(i)));
      return all.reduce((s, r) => s + r.host.attributableBytes, 0);
    }
    return (baseline ?? 0) - (await readMemAvailable());
  };

  try {
    let baseline: number | undefined;
    if (memoryMethod === 'host-memavailable-delta') {
      try {
        baseline = await readMemAvailable();
      } catch (err) {
        throw failed('measure_failed', `${platform.name}: no memory reading (no memoryReading, MemAvailable unreadable)`, err);
      }
    }
    for (let n = 1; ; n++) {
      if (signal?.aborted) throw aborted();
      const id = instanceId(n);

      let instance: Instance;
      try {
        instance = await deps.launch(id);
      } catch (err) {
        throw failed('launch_failed', `launch of instance ${n} (${id}) failed`, err);
      }
      running.push(instance);

      let launchToReadyMs: number;
      try {
        launchToReadyMs = (
          await measureStartup(instance, { readyPath: deps.readyPath }, {
            intervalMs: deps.pollIntervalMs,
            requestTimeoutMs: 200,
            timeoutMs: deps.readyTimeoutMs,
            signal,
          })
        ).ms;
      } catch (err) {
        throw failed('launch_failed', `instance ${n} (${id}) not ready within ${deps.readyTimeoutMs} ms`, err);
      }

      if (deps.verify) {
        try {
          await deps.verify(instance);
        } catch (err) {
          if (signal?.aborted) throw aborted();
          throw err;
        }
      }

      let hostMemoryBytes: number;
      try {
        const wait = (instance.lifecycle.ready ?? performance.now()) + settleMs - performance.now();
        if (wait > 0) await sleep(wait, undefined, { signal });
        hostMemoryBytes = await hostMemory(baseline);
      } catch (err) {
        throw failed('measure_failed', `memory reading with ${n} instances failed`, err);
      }

      let outcome: ProbeOutcome;
      try {
        outcome = await probeAll(running, deps, probe);
      } catch (err) {
        throw failed('measure_failed', `probe load on ${n} instances failed`, err);
      }
      // A probe cut short by the signal is not a measurement.
      if (signal?.aborted) throw aborted();

      const point: DensityPoint = { instances: n, launchToReadyMs, hostMemoryBytes, ...outcome };
      curve.push(point);
      deps.onStep?.(point);
      const verdict = decideDensityStep(curve, limits);
      if (verdict.met) maxInstances = n;
      if (verdict.stop !== null) throw new Stop(verdict.stop, verdict.detail);
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    stop = err;
  } finally {
    const stopping = running.splice(0).reverse();
    const settled = await Promise.allSettled(stopping.map((i) => deps.stop(i)));
    settled.forEach((s, k) => {
      if (s.status === 'rejected') notes.push(`stopping ${stopping[k]!.id} failed: ${messageOf(s.reason)}`);
    });
  }
  return {
    maxInstances,
    stoppedBecause: stop.reason,
    detail: stop.detail,
    curve,
    marginalMemoryBytes: marginalMemory(curve),
    memoryMethod,
    limits,
    probe,
    ...(stop.error !== undefined ? { error: stop.error } : {}),
    notes,
  };
}

export type DensitySampleValue = SampleValue;

const MiB = 2 ** 20;

/**
 * The result as sample values (the runner adds platform, kind, rep, warmup,
 * timestamp): density_max_instances (count), density_marginal_memory (MiB,
 * with ≥ 2 points), and per point density_p99 (ms, when a probe request
 * succeeded) and density_memory (MiB), each with the parameter instances = K.
 */
export function densitySampleValues(r: DensityResult): DensitySampleValue[] {
  const common: Sample['metadata'] = {
    memory_method: r.memoryMethod,
    memory_budget_mib: r.limits.memoryBudgetBytes / MiB,
    slo_p99_ms: r.limits.sloP99Ms,
    max_instances_limit: r.limits.maxInstances,
    probe_mode: r.probe.mode,
    probe_rate_per_instance: r.probe.mode === 'open' ? r.probe.ratePerInstance : null,
    probe_connections_per_instance: r.probe.mode === 'closed' ? r.probe.connectionsPerInstance : null,
    probe_duration_ms: r.probe.durationMs,
  };
  const out: DensitySampleValue[] = [
    {
      metric: 'density_max_instances',
      value: r.maxInstances,
      unit: 'count',
      metadata: {
        ...common,
        stopped_because: r.stoppedBecause,
        detail: r.detail || null,
        error: r.error ?? null,
        points: r.curve.length,
        notes: r.notes.join(' | ') || null,
      },
    },
  ];
  if (r.marginalMemoryBytes !== null) {
    out.push({ metric: 'density_marginal_memory', value: r.marginalMemoryBytes / MiB, unit: 'MiB', metadata: { ...common, points: r.curve.length } });
  }
  for (const p of r.curve) {
    const metadata: Sample['metadata'] = {
      ...common,
      instances: p.instances,
      within_limits: p.instances <= r.maxInstances,
      launch_to_ready_ms: p.launchToReadyMs,
      memory_mib: p.hostMemoryBytes / MiB,
      p50_ms: p.p50Ms,
      p99_ms: p.p99Ms,
      req_per_sec: p.reqPerSec,
      requests: p.requests,
      errors: p.errors,
      histogram: p.histogram,
    };
    const params = { instances: p.instances };
    if (p.p99Ms !== null) out.push({ metric: 'density_p99', params, value: p.p99Ms, unit: 'ms', metadata });
    out.push({ metric: 'density_memory', params, value: p.hostMemoryBytes / MiB, unit: 'MiB', metadata });
  }
  return out;
}

/** density: instances one at a time until the memory budget, a failure or the p99 SLO. */
export const densityMeasurement: Measurement = {
  name: 'density',
  uses: 'self',
  rounds: (s) => onceIf(s.measurements.density),
  async run(ctx, s) {
    const { platform } = ctx;
    const result = await measureDensity(
      {
        launch: (id) => ctx.launch(id),
        stop: (instance) => ctx.stop(instance),
        verify: async (instance) => void (await ctx.digestInside(instance)),
        readyTimeoutMs: ctx.readyTimeoutMs,
        pollIntervalMs: ctx.pollIntervalMs,
        request: ctx.protocol.load,
        readyPath: ctx.protocol.readyPath,
        signal: ctx.signal,
        onStep: (p) => ctx.info(`density ${platform.name}: ${p.instances} instance(s), p99 ${p.p99Ms == null ? '—' : `${p.p99Ms.toFixed(1)} ms`}, ${(p.hostMemoryBytes / MiB).toFixed(0)} MiB`),
      },
      platform,
      s.measurements.density!,
      { instanceId: (n) => String(n) },
    );
    ctx.throwIfAborted();
    for (const v of densitySampleValues(result)) ctx.emit(v);
    if (result.error) ctx.warn(`${platform.name}: density stopped: ${result.detail}`);
  },
};