/**
 * Saved baselines: one JSON file per host and scenario, like Kata's
 * per-machine baselines — numbers are only comparable on the machine that
 * made them. Pure: building, checking and locating; the CLI reads and writes.
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

export interface BaselineFile {
  kind: 'vmbench-baseline';
  schemaVersion: 1;
  hostKey: string;
  host: HostFingerprint;
  scenario: string;
  /** The run it was saved from. */
  runId: string;
  runStartedAt: string;
  savedAt: string;
  /** Platform facts of that run (engine/QEMU versions, accelerator). */
  platforms: Environment['platforms'];
  /** The run's measured samples (warm-ups dropped, metadata stripped). */
  samples: Sample[];
  /** Noise floor measured on this host (bench calibrate-noise), if attached. */
  noise: NoiseEntry[] | null;
}

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

export function hostKeyOf(env: Pick<Environment, 'cpuModel' | 'cores' | 'memoryBytes' | 'os' | 'kernel'>): string {
  return hostKey(hostFingerprint(env));
}

/** Scenario name recorded in a run (run.json keeps the parsed scenario). */
export function scenarioNameOf(record: RunRecord): string {
  const s = record.scenario as { name?: unknown } | null;
  return typeof s?.name === 'string' ? s.name : 'unknown';
}

/** A baseline from a completed run; warm-ups and sample metadata are dropped (they are in the run's own journal). */
export function makeBaseline(record: RunRecord, samples: readonly Sample[], noise: NoiseEntry[] | null, now = new Date()): BaselineFile {
  const host = hostFingerprint(record.environment);
  return {
    kind: 'vmbench-baseline',
    schemaVersion: 1,
    hostKey: hostKey(host),
    host,
    scenario: scenarioNameOf(record),
    runId: record.runId,
    runStartedAt: record.startedAt,
    savedAt: now.toISOString(),
    platforms: record.environment.platforms,
    samples: samples.filter((s) => !s.warmup).map((s) => ({ ...s, metadata: {} })),
    noise,
  };
}

/** Where a baseline lives under a baselines directory. */
export function baselinePath(root: string, key: string, scenario: string): string {
  return join(root, key, `${scenario}.json`);
}

/** Where a noise profile lives next to it. */
export function noisePath(root: string, key: string, scenario: string): string {
  return join(root, key, `${scenario}.noise.json`);
}

/** Problems with a parsed JSON value that claims to be a baseline; empty when fine. */
export function baselineProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['expected a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.kind !== 'vmbench-baseline') problems.push('kind is not "vmbench-baseline"');
  if (v.schemaVersion !== 1) problems.push(`schemaVersion ${String(v.schemaVersion)} is not readable (reads 1)`);
  if (typeof v.hostKey !== 'string') problems.push('no hostKey');
  if (typeof v.scenario !== 'string') problems.push('no scenario');
  if (!Array.isArray(v.samples)) problems.push('no samples array');
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
