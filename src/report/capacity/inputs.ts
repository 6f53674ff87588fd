import type { StoredRun } from '../../results/read-run.js';
import type { Sample } from '../../results/sample.js';
import { recordedPlatforms } from '../../results/recorded-scenario.js';
import { median } from '../series.js';
import type { CapacityInputs } from './model.js';

/**
 * The measured samples a substrate's projection is made from, grouped so a
 * bootstrap can resample them as they were taken: each load-level window as
 * a (throughput, p99) pair, each density step as an (instances, memory)
 * pair, each idle memory reading.
 */
export interface CapacitySamples {
  platform: string;
  cpusPerInstance: number | null;
  /** Per load level: its windows, each the throughput and the p99 measured together. */
  levels: Array<{ level: string; windows: Array<{ throughput: number; p99: number | null }> }>;
  /** max_rate searches whose SLO is within the projection's: the rate is served within it. */
  maxRates: number[];
  density: Array<{ instances: number; memory: number }>;
  memoryHost: number[];
  densityLimit: { instances: number; hostCores: number } | null;
  /** Why the density search did not bound the projection (a different SLO, stopped for another reason). */
  densityNote: string | null;
}

const measured = (run: StoredRun, platform: string, metric: string): Sample[] => run.samples.filter((x) => !x.warmup && x.platform === platform && x.metric === metric);
const sameParams = (a: Sample, b: Sample) => JSON.stringify(a.params ?? {}) === JSON.stringify(b.params ?? {});

export function capacitySamples(run: StoredRun, platform: string, sloMs: number): CapacitySamples {
  const cpus = recordedPlatforms(run.record).find((p) => p.name === platform)?.cpus ?? null;
  const tps = measured(run, platform, 'throughput');
  const p99s = measured(run, platform, 'latency_p99');
  const levels = new Map<string, CapacitySamples['levels'][number]>();
  for (const t of tps) {
    const key = JSON.stringify(t.params ?? {});
    const p99 = p99s.find((l) => sameParams(l, t) && l.rep === t.rep) ?? null;
    let lv = levels.get(key);
    if (!lv) levels.set(key, (lv = { level: key, windows: [] }));
    lv.windows.push({ throughput: t.value, p99: p99?.value ?? null });
  }
  const maxRates = measured(run, platform, 'max_rate').filter((x) => typeof x.params?.slo_p99_ms === 'number' && x.params.slo_p99_ms <= sloMs).map((x) => x.value);
  const density = measured(run, platform, 'density_memory').flatMap((x) => (typeof x.params?.instances === 'number' ? [{ instances: x.params.instances, memory: x.value }] : []));
  const stop = measured(run, platform, 'density_max_instances')[0];
  let densityLimit: CapacitySamples['densityLimit'] = null;
  let densityNote: string | null = null;
  if (stop) {
    const slo = stop.metadata.slo_p99_ms;
    const why: Record<string, string> = { budget: 'at the memory budget', max_instances: 'at max_instances', launch_failed: 'at a failed launch', measure_failed: 'at a failed reading' };
    if (stop.metadata.stopped_because !== 'slo') {
      densityNote = `the density search stopped ${why[String(stop.metadata.stopped_because)] ?? `on ${String(stop.metadata.stopped_because ?? 'an unknown reason')}`}, not on the SLO: the memory and CPU bounds apply`;
    }
    else if (slo !== sloMs) densityNote = `the density search used a p99 SLO of ${String(slo)} ms, not ${sloMs} ms: its limit is not used`;
    else densityLimit = { instances: stop.value, hostCores: run.record.environment.cores };
  }
  return { platform, cpusPerInstance: cpus, levels: [...levels.values()], maxRates, density, memoryHost: measured(run, platform, 'memory_host').filter((x) => x.params === undefined).map((x) => x.value), densityLimit, densityNote };
}

/** Least-squares line through (instances, memory); null with fewer than two distinct counts. */
export function memoryLine(points: ReadonlyArray<{ instances: number; memory: number }>): { intercept: number; slope: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.instances, 0) / n;
  const my = points.reduce((s, p) => s + p.memory, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.instances - mx) ** 2;
    sxy += (p.instances - mx) * (p.memory - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

const medianOf = median;

/**
 * The model's inputs from (possibly resampled) samples: the best median
 * throughput of a level whose median p99 met the SLO, or a max-rate search
 * within it; the density line, else the idle memory reading; the density
 * search's limit when it stopped on the same SLO.
 */
export function capacityInputs(s: CapacitySamples, sloMs: number): CapacityInputs {
  const candidates: number[] = [];
  for (const lv of s.levels) {
    const p99 = medianOf(lv.windows.flatMap((w) => (w.p99 == null ? [] : [w.p99])));
    const tp = medianOf(lv.windows.map((w) => w.throughput));
    if (p99 != null && tp != null && p99 <= sloMs && tp > 0) candidates.push(tp);
  }
  const maxRate = medianOf(s.maxRates);
  if (maxRate != null && maxRate > 0) candidates.push(maxRate);
  const line = memoryLine(s.density);
  const idle = medianOf(s.memoryHost);
  const measuredAny = s.levels.length > 0 || s.maxRates.length > 0;
  return {
    cpusPerInstance: s.cpusPerInstance,
    memoryLine: line ?? (idle != null ? { intercept: 0, slope: idle } : null),
    densityLimit: s.densityLimit,
    throughputPerInstance: candidates.length ? Math.max(...candidates) : measuredAny ? 0 : null,
  };
}
