/**
 * Saved baselines: one JSON file per host and scenario, like Kata's
 * per-machine baselines — numbers are only comparable on the machine that
 * made them — holding one or more runs. Pure: building, checking and
 * locating; the CLI reads and writes.
 *
 * Layout: baselines/<host-key>/<scenario>.json, where the host key is the
 * first 12 hex digits of sha256 over the facts that change performance and
 * survive a reboot: CPU model, core count, memory (GiB, rounded), OS and
 * kernel release. The hostname is *not* part of it (CI runners get random ones).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Environment } from '../results/environment.js';
import type { Sample } from '../results/sample.js';
import type { RunRecord } from '../results/run-record.js';
import type { NoiseEntry } from './noise.js';

export interface HostFingerprint {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
}

/** One run a baseline holds: its measured samples (warm-ups dropped, metadata stripped). */
export interface BaselineRun {
  runId: string;
  startedAt: string;
  samples: Sample[];
}

/**
 * Schema 2: a baseline is one or more runs (runs are the unit of replication:
 * the run-level test compares the current run's median with the spread of
 * the baseline runs' medians). Schema 1 held a single run's samples; it is
 * upgraded as it is read (upgradeBaseline).
 */
export interface BaselineFile {
  kind: 'vmbench-baseline';
  schemaVersion: 2;
  hostKey: string;
  host: HostFingerprint;
  scenario: string;
  /** The runs it was saved from, oldest first. */
  runs: BaselineRun[];
  savedAt: string;
  /** Platform facts of the newest run (engine/QEMU versions, accelerator). */
  platforms: Environment['platforms'];
  /** Noise floor measured on this host (bench calibrate-noise), if attached. */
  noise: NoiseEntry[] | null;
}

/** The schema-1 file: one run, its samples flat. */
export interface BaselineFileV1 extends Omit<BaselineFile, 'schemaVersion' | 'runs'> {
  schemaVersion: 1;
  runId: string;
  runStartedAt: string;
  samples: Sample[];
}

export const BASELINE_SCHEMA_VERSION = 2;

export function hostFingerprint(env: Pick<Environment, 'cpuModel' | 'cores' | 'memoryBytes' | 'os' | 'kernel'>): HostFingerprint {
  return {
    cpuModel: env.cpuModel,
    cores: env.cores,
    memoryGiB: Math.round(env.memoryBytes / 2 ** 30),
    os: env.os,
    kernel: env.kernel,
  };
}

export function hostKey(fp: HostFingerprint): string {
  const text = [fp.cpuModel, fp.cores, fp.memoryGiB, fp.os, fp.kernel].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

type FingerprintFields = Pick<Environment, 'cpuModel' | 'cores' | 'memoryBytes' | 'os' | 'kernel'>;
type RunEnvironment = FingerprintFields & Partial<Pick<Environment, 'hosts' | 'platforms'>>;

/** The host names a run's platforms ran on ('local' for this machine), sorted. */
export function measuredHostNames(env: RunEnvironment): string[] {
  const names = new Set(Object.values(env.platforms ?? {}).map((p) => (typeof p.host === 'string' ? p.host : 'local')));
  return [...(names.size ? names : new Set(['local']))].sort();
}

/**
 * The machine a run measured: the controller's fingerprint, or — when its
 * platforms ran on remote hosts — theirs (several hosts: their fields
 * joined), so a baseline and a history stay per measured machine whichever
 * controller drove the run.
 */
export function measuredFingerprint(env: RunEnvironment): HostFingerprint {
  const parts = measuredHostNames(env).map((name): FingerprintFields => {
    const h = name === 'local' ? undefined : env.hosts?.[name];
    if (!h) return env;
    return { cpuModel: String(h.cpuModel), cores: Number(h.cores), memoryBytes: Number(h.memoryBytes), os: String(h.os), kernel: String(h.kernel) };
  });
  if (parts.length === 1) return hostFingerprint(parts[0]!);
  const fps = parts.map(hostFingerprint);
  return {
    cpuModel: fps.map((f) => f.cpuModel).join(' + '),
    cores: fps.reduce((a, f) => a + f.cores, 0),
    memoryGiB: fps.reduce((a, f) => a + f.memoryGiB, 0),
    os: fps.map((f) => f.os).join(' + '),
    kernel: fps.map((f) => f.kernel).join(' + '),
  };
}

export function hostKeyOf(env: RunEnvironment): string {
  return hostKey(measuredFingerprint(env));
}

/** A reader's name for the measured host(s): "local (vm)", "kvm-box (bench-01)". */
export function hostLabelOf(env: RunEnvironment & { hostname?: string }): string {
  return measuredHostNames(env)
    .map((n) => `${n} (${n === 'local' ? (env.hostname ?? '?') : String(env.hosts?.[n]?.hostname ?? '?')})`)
    .join(' + ');
}

/** Scenario name recorded in a run (run.json keeps the parsed scenario). */
export function scenarioNameOf(record: RunRecord): string {
  const s = record.scenario as { name?: unknown } | null;
  return typeof s?.name === 'string' ? s.name : 'unknown';
}

/** A stored run as makeBaseline takes it (results/read-run.ts StoredRun fits). */
export interface BaselineSource {
  record: RunRecord;
  samples: readonly Sample[];
}

/** Why these runs cannot make one baseline (different scenarios or hosts, none at all); empty when they can. */
export function baselineSourceProblems(runs: readonly BaselineSource[]): string[] {
  if (runs.length === 0) return ['no runs'];
  const problems: string[] = [];
  const scenarios = new Set(runs.map((r) => scenarioNameOf(r.record)));
  const hosts = new Set(runs.map((r) => hostKeyOf(r.record.environment)));
  if (scenarios.size > 1) problems.push(`the runs are of different scenarios (${[...scenarios].join(', ')})`);
  if (hosts.size > 1) problems.push(`the runs come from different hosts (keys ${[...hosts].join(', ')}); a baseline is per host`);
  const ids = runs.map((r) => r.record.runId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) problems.push(`run ${dup} is given twice`);
  return problems;
}

/** A baseline from completed runs of one scenario on one host (oldest first); warm-ups and sample metadata are dropped (they are in the runs' own journals). */
export function makeBaseline(runs: readonly BaselineSource[], noise: NoiseEntry[] | null, now = new Date()): BaselineFile {
  const sorted = [...runs].sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
  const newest = sorted[sorted.length - 1]!.record;
  // The machine the runs measured (a remote host's fingerprint for a run driven from elsewhere), as compare keys it.
  const host = measuredFingerprint(newest.environment);
  return {
    kind: 'vmbench-baseline',
    schemaVersion: BASELINE_SCHEMA_VERSION,
    hostKey: hostKey(host),
    host,
    scenario: scenarioNameOf(newest),
    runs: sorted.map((r) => ({
      runId: r.record.runId,
      startedAt: r.record.startedAt,
      samples: r.samples.filter((s) => !s.warmup).map((s) => ({ ...s, metadata: {} })),
    })),
    savedAt: now.toISOString(),
    platforms: newest.environment.platforms,
    noise,
  };
}

/** A parsed baseline of either schema as schema 2 (a schema-1 file is its one run). */
export function upgradeBaseline(b: BaselineFile | BaselineFileV1): BaselineFile {
  if (b.schemaVersion === BASELINE_SCHEMA_VERSION) return b;
  const { runId, runStartedAt, samples, schemaVersion: _v, ...rest } = b;
  return { ...rest, schemaVersion: BASELINE_SCHEMA_VERSION, runs: [{ runId, startedAt: runStartedAt, samples }] };
}

/** Where a baseline lives under a baselines directory. */
export function baselinePath(root: string, key: string, scenario: string): string {
  return join(root, key, `${scenario}.json`);
}

/** Where a noise profile lives next to it. */
export function noisePath(root: string, key: string, scenario: string): string {
  return join(root, key, `${scenario}.noise.json`);
}

/** Problems with a parsed JSON value that claims to be a baseline (schema 1 or 2); empty when fine. */
export function baselineProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['expected a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.kind !== 'vmbench-baseline') problems.push('kind is not "vmbench-baseline"');
  if (v.schemaVersion !== 1 && v.schemaVersion !== BASELINE_SCHEMA_VERSION) {
    problems.push(`schemaVersion ${String(v.schemaVersion)} is not readable (reads 1, ${BASELINE_SCHEMA_VERSION})`);
  }
  if (typeof v.hostKey !== 'string') problems.push('no hostKey');
  if (typeof v.scenario !== 'string') problems.push('no scenario');
  if (v.schemaVersion === 1 && !Array.isArray(v.samples)) problems.push('no samples array');
  if (v.schemaVersion === BASELINE_SCHEMA_VERSION) {
    const runs = v.runs;
    if (!Array.isArray(runs) || runs.length === 0) problems.push('no runs');
    else if (!runs.every((r) => typeof r === 'object' && r !== null && Array.isArray((r as { samples?: unknown }).samples))) problems.push('a run without a samples array');
  }
  return problems;
}

/** Differences between two host fingerprints, as "cores: 2 → 4". */
export function hostDifferences(a: HostFingerprint, b: HostFingerprint): string[] {
  const out: string[] = [];
  for (const k of ['cpuModel', 'cores', 'memoryGiB', 'os', 'kernel'] as const) {
    if (a[k] !== b[k]) out.push(`${k}: ${a[k]} → ${b[k]}`);
  }
  return out;
}
