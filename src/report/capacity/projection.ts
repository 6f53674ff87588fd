import { quantileSorted } from 'simple-statistics';
import { recordedSlos } from '../../results/recorded-scenario.js';
import { seededRandom } from '../../stats/random.js';
import { capacityFor, type ReportOptions } from '../options.js';
import type { RunView } from '../run-view.js';
import { capacityInputs, capacitySamples, type CapacitySamples } from './inputs.js';
import { projectCapacity, type CapacityFigures, type CapacityInputs, type HostProfile } from './model.js';

/** What a projection is made for, and where each setting came from. */
export interface ProjectionSettings {
  sloMs: number | null;
  sloSource: string;
  targetRate: number | null;
  host: HostProfile & { currency: string };
  hostSource: string;
}

export type Figure = 'throughputPerInstance' | 'memoryPerInstance' | 'instancesPerHost' | 'throughputPerHost' | 'hostsNeeded' | 'hostHoursPerMillion' | 'costPerMillion';

export interface SubstrateProjection {
  platform: string;
  inputs: CapacityInputs;
  figures: CapacityFigures | null;
  /** Why there are no figures: the input that was not measured, or why no instance fits. */
  notProjectable: string | null;
  /** 95 % percentile-bootstrap intervals (low = high: no spread, every input behind it a single reading or fixed). */
  intervals: Partial<Record<Figure, { low: number; high: number }>>;
  /** How many windows, density steps and memory readings the projection rests on. */
  n: { windows: number; densitySteps: number; memoryReadings: number };
  notes: string[];
}

export interface RunProjection {
  settings: ProjectionSettings;
  /** Why nothing is projected at all (no SLO to project at); else null. */
  reason: string | null;
  rows: SubstrateProjection[];
}

export const BOOTSTRAP_RESAMPLES = 2000;

export function projectionSettings(view: RunView, options: ReportOptions): ProjectionSettings {
  const cfg = capacityFor(view.run, options);
  const slos = recordedSlos(view.run.record);
  const env = view.run.record.environment;
  const [sloMs, sloSource] =
    cfg.slo_p99 != null ? [cfg.slo_p99, 'capacity.slo_p99'] : slos.throughput != null ? [slos.throughput, 'the scenario\'s throughput.slo_p99'] : slos.density != null ? [slos.density, 'the scenario\'s density.slo_p99'] : [null, 'none given'];
  const own = cfg.host?.cores != null || cfg.host?.memory != null;
  return {
    sloMs,
    sloSource,
    targetRate: cfg.target_rate ?? null,
    host: { cores: cfg.host?.cores ?? env.cores, memoryMiB: (cfg.host?.memory ?? env.memoryBytes) / 2 ** 20, pricePerHour: cfg.host?.price_per_hour ?? null, currency: cfg.host?.currency ?? 'USD' },
    hostSource: own ? 'the capacity host profile' : 'the measuring host',
  };
}

function resample<T>(xs: readonly T[], rand: () => number): T[] {
  return xs.map(() => xs[Math.floor(rand() * xs.length)]!);
}

function resampled(s: CapacitySamples, rand: () => number): CapacitySamples {
  return {
    ...s,
    levels: s.levels.map((lv) => ({ ...lv, windows: resample(lv.windows, rand) })),
    maxRates: resample(s.maxRates, rand),
    density: resample(s.density, rand),
    memoryHost: resample(s.memoryHost, rand),
  };
}

function figuresOf(inputs: CapacityInputs, f: CapacityFigures | string): Partial<Record<Figure, number | null>> {
  const perInstance = { throughputPerInstance: inputs.throughputPerInstance, memoryPerInstance: inputs.memoryLine?.slope ?? null };
  if (typeof f === 'string') return perInstance;
  return { ...perInstance, instancesPerHost: f.instancesPerHost, throughputPerHost: f.throughputPerHost, hostsNeeded: f.hostsNeeded, hostHoursPerMillion: f.hostHoursPerMillion, costPerMillion: f.costPerMillion };
}

/**
 * The capacity and cost projection of every substrate of a run from its own
 * measurements, with 95 % intervals from a bootstrap over the samples (each
 * load window, density step and memory reading resampled as taken, the whole
 * projection recomputed each time; seeded by the run's seed). Pure.
 */
export function projectRun(view: RunView, options: ReportOptions = {}): RunProjection {
  // The HTML, the decision record and the chart each ask; the bootstrap runs once per view and options.
  const key = JSON.stringify(options);
  let byOptions = cache.get(view);
  if (!byOptions) cache.set(view, (byOptions = new Map()));
  const hit = byOptions.get(key);
  if (hit) return hit;
  const result = computeProjection(view, options);
  byOptions.set(key, result);
  return result;
}

const cache = new WeakMap<RunView, Map<string, RunProjection>>();

function computeProjection(view: RunView, options: ReportOptions): RunProjection {
  const settings = projectionSettings(view, options);
  if (settings.sloMs == null) return { settings, reason: 'no p99 SLO to project at: set capacity.slo_p99 (or bench report --slo-p99), or measure throughput.slo_p99 / density', rows: [] };
  const slo = settings.sloMs;
  const rows = view.substrates.map((sub): SubstrateProjection => {
    const samples = capacitySamples(view.run, sub.platform, slo);
    const inputs = capacityInputs(samples, slo);
    const point = projectCapacity(inputs, settings.host, settings.targetRate);
    const rand = seededRandom(view.run.record.plan.seed);
    const draws = new Map<Figure, number[]>();
    for (let i = 0; i < BOOTSTRAP_RESAMPLES; i++) {
      const inp = capacityInputs(resampled(samples, rand), slo);
      for (const [k, v] of Object.entries(figuresOf(inp, projectCapacity(inp, settings.host, settings.targetRate)))) {
        if (v == null) continue;
        let xs = draws.get(k as Figure);
        if (!xs) draws.set(k as Figure, (xs = []));
        xs.push(v);
      }
    }
    const intervals: SubstrateProjection['intervals'] = {};
    for (const [k, xs] of draws) {
      xs.sort((a, b) => a - b);
      intervals[k] = { low: quantileSorted(xs, 0.025), high: quantileSorted(xs, 0.975) };
    }
    return {
      platform: sub.platform,
      inputs,
      figures: typeof point === 'string' ? null : point,
      notProjectable: typeof point === 'string' ? point : null,
      intervals,
      n: { windows: samples.levels.reduce((s, lv) => s + lv.windows.length, 0) + samples.maxRates.length, densitySteps: samples.density.length, memoryReadings: samples.memoryHost.length },
      notes: samples.densityNote ? [samples.densityNote] : [],
    };
  });
  return { settings, reason: null, rows };
}
