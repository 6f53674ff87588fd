/**
 * The parts of a run's recorded scenario (run.json → scenario, as the schema
 * parsed it) that the reports read: the chosen reference, the resources, the
 * decision block, the capacity block, the platforms as configured and the
 * SLOs. A record stores the scenario as `unknown` (older records lack newer
 * keys), so each reader checks the shape it needs and gives null when it is
 * absent. Pure.
 */
import type { CapacityConfig } from '../scenario/capacity.js';
import type { DecisionConfig } from '../scenario/decision.js';
import type { RunRecord } from './run-record.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function block(record: RunRecord, key: string): Obj | null {
  const sc = record.scenario;
  return isObj(sc) && isObj(sc[key]) ? sc[key] : null;
}

export function recordedReference(record: RunRecord): string | null {
  return str(block(record, 'report')?.reference) ?? null;
}

/** A platform as the scenario configured it (cpus and memory as the harness used them). */
export interface ConfiguredPlatform {
  name: string;
  kind: string;
  cpus: number | null;
  memoryBytes: number | null;
  network: string | null;
  accel: string | null;
  runtime: string | null;
}

export function recordedPlatforms(record: RunRecord): ConfiguredPlatform[] {
  const sc = record.scenario;
  if (!isObj(sc) || !Array.isArray(sc.platforms)) return [];
  return sc.platforms.filter(isObj).map((p) => ({
    name: str(p.name) ?? '?',
    kind: str(p.kind) ?? '?',
    cpus: num(p.cpus) ?? null,
    memoryBytes: num(p.memory) ?? null,
    network: str(p.network) ?? null,
    accel: str(p.accel) ?? null,
    runtime: str(p.runtime) ?? null,
  }));
}

export function recordedResources(record: RunRecord): { cpus: number | null; memoryBytes: number | null } | null {
  const r = block(record, 'resources');
  return r ? { cpus: num(r.cpus) ?? null, memoryBytes: num(r.memory) ?? null } : null;
}

export function recordedWorkload(record: RunRecord): { threads: number | null; device: string | null; model: string | null } {
  const w = block(record, 'workload');
  return { threads: num(w?.threads) ?? null, device: str(w?.device) ?? null, model: str(w?.model) ?? null };
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

function numberRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (num(x) !== undefined) out[k] = x as number;
  return out;
}

export function recordedDecision(record: RunRecord): DecisionConfig | null {
  const d = block(record, 'decision');
  return d ? { require: stringRecord(d.require), weights: numberRecord(d.weights) } : null;
}

export function recordedCapacity(record: RunRecord): CapacityConfig | null {
  const c = block(record, 'capacity');
  if (!c) return null;
  const h = isObj(c.host) ? c.host : null;
  return {
    ...(num(c.target_rate) !== undefined ? { target_rate: num(c.target_rate) } : {}),
    ...(num(c.slo_p99) !== undefined ? { slo_p99: num(c.slo_p99) } : {}),
    ...(h
      ? {
          host: {
            ...(num(h.cores) !== undefined ? { cores: num(h.cores) } : {}),
            ...(num(h.memory) !== undefined ? { memory: num(h.memory) } : {}),
            ...(num(h.price_per_hour) !== undefined ? { price_per_hour: num(h.price_per_hour) } : {}),
            currency: str(h.currency) ?? 'USD',
          },
        }
      : {}),
  };
}

/** The p99 SLOs the scenario measured against (ms): throughput's max-rate search, the density search. */
export function recordedSlos(record: RunRecord): { throughput: number | null; density: number | null } {
  const m = block(record, 'measurements');
  const t = isObj(m?.throughput) ? m.throughput : null;
  const d = isObj(m?.density) ? m.density : null;
  return { throughput: num(t?.slo_p99) ?? null, density: num(d?.slo_p99) ?? null };
}
