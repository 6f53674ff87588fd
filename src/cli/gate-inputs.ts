/**
 * I/O for the gate commands: reading a side of a comparison (results
 * directories, a saved baseline file, or a baselines/ directory resolved by the
 * other side's host key and scenario), the completed runs under a results
 * root, noise profiles, and writing output files.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BenchError, messageOf } from '../errors.js';
import { upgradeV1Sample } from '../results/upgrade-v1.js';
import {
  baselinePath,
  baselineProblems,
  measuredFingerprint,
  hostKey,
  hostKeyOf,
  scenarioNameOf,
  upgradeBaseline,
  type BaselineFile,
  type BaselineFileV1,
  type HostFingerprint,
} from '../gate/baseline.js';
import type { NoiseEntry, NoiseProfile, RunSamples } from '../gate/noise.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import type { RunRecord } from '../results/run-record.js';

export interface GateSide {
  /** What the user passed, for messages. */
  label: string;
  kind: 'run' | 'baseline';
  scenario: string;
  host: HostFingerprint;
  hostKey: string;
  /** The side's runs, each with its samples (a baseline may hold several; so may the current side). */
  runs: RunSamples[];
  /** The run records, for results directories. */
  records: RunRecord[];
  baseline: BaselineFile | null;
  /** The file a baseline was read from. */
  file: string | null;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BenchError('input', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

export function readBaselineFile(file: string): BaselineFile {
  const value = readJson(file);
  const problems = baselineProblems(value);
  if (problems.length > 0) {
    throw new BenchError('input', `${file} is not a vmbench baseline: ${problems.join('; ')}`, {
      hint: 'create one with `bench baseline save results/<run-id>`',
    });
  }
  const b = upgradeBaseline(value as BaselineFile | BaselineFileV1);
  // Baselines saved from runs of schema version 1 hold their samples' parameters in the names.
  return { ...b, runs: b.runs.map((r) => ({ ...r, samples: r.samples.map(upgradeV1Sample) })) };
}

/** A run already read (by readRun) as a side of a comparison; `label` is what the user passed. */
export function sideOfRun(label: string, run: StoredRun): GateSide {
  const host = measuredFingerprint(run.record.environment);
  return {
    label,
    kind: 'run',
    scenario: scenarioNameOf(run.record),
    host,
    hostKey: hostKey(host),
    runs: [{ runId: run.record.runId, samples: run.samples }],
    records: [run.record],
    baseline: null,
    file: null,
  };
}

/** Several current runs as one side; they must be of one scenario on one host. */
export function combineSides(sides: readonly GateSide[]): GateSide {
  if (sides.length === 1) return sides[0]!;
  const first = sides[0]!;
  for (const s of sides.slice(1)) {
    if (s.scenario !== first.scenario) throw new BenchError('input', `${s.label} is a run of "${s.scenario}", ${first.label} of "${first.scenario}": the current runs must be of one scenario`);
    if (s.hostKey !== first.hostKey) throw new BenchError('input', `${s.label} and ${first.label} come from different hosts (${s.hostKey} vs ${first.hostKey})`);
  }
  return {
    ...first,
    label: sides.map((s) => s.label).join(' + '),
    runs: sides.flatMap((s) => s.runs),
    records: sides.flatMap((s) => s.records),
  };
}

/**
 * The completed runs under a results root (results/<run-id>/), of the newest
 * run's scenario and host unless given, oldest first. Unreadable runs are
 * reported through `warn` and skipped.
 */
export function completedRunsUnder(root: string, warn: (message: string) => void, only: { scenario?: string; host?: string } = {}): StoredRun[] {
  const abs = resolve(root);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new BenchError('input', `no such directory: ${root}`);
  const runs: StoredRun[] = [];
  for (const name of readdirSync(abs).sort()) {
    if (!existsSync(join(abs, name, 'run.json'))) continue;
    try {
      runs.push(readRun(join(abs, name)));
    } catch (err) {
      warn(`skipping ${name}: ${messageOf(err)}`);
    }
  }
  const completed = runs.filter((r) => r.record.status === 'completed').sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
  if (completed.length === 0) throw new BenchError('input', `${root} holds no completed run (results/<run-id>/run.json)`);
  const latest = completed[completed.length - 1]!;
  const scenario = only.scenario ?? scenarioNameOf(latest.record);
  const host = only.host ?? hostKeyOf(latest.record.environment);
  return completed.filter((r) => scenarioNameOf(r.record) === scenario && hostKeyOf(r.record.environment) === host);
}

function fromRun(path: string): GateSide {
  return sideOfRun(path, readRun(path));
}

function fromBaseline(file: string, label: string): GateSide {
  const b = readBaselineFile(file);
  return {
    label,
    kind: 'baseline',
    scenario: b.scenario,
    host: b.host,
    hostKey: b.hostKey,
    runs: b.runs.map((r) => ({ runId: r.runId, samples: r.samples })),
    records: [],
    baseline: b,
    file,
  };
}

/**
 * A results directory (has run.json), run.json itself, or a baseline file.
 * A directory without run.json is a baselines root, resolved with `other`'s
 * host key and scenario (baselines/<host-key>/<scenario>.json).
 */
export function readSide(path: string, other?: GateSide): GateSide {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new BenchError('input', `no such file or directory: ${path}`);
  if (statSync(abs).isDirectory()) {
    if (existsSync(join(abs, 'run.json'))) return fromRun(path);
    if (!other) {
      throw new BenchError('input', `${path} has no run.json: pass a results directory (results/<run-id>) or a baseline file`);
    }
    const file = baselinePath(abs, other.hostKey, other.scenario);
    if (!existsSync(file)) {
      throw new BenchError('input', `no baseline for scenario "${other.scenario}" on this host (key ${other.hostKey}): ${file} does not exist`, {
        hint: `save one from a good run with \`bench baseline save results/<run-id> --dir ${path}\``,
      });
    }
    return fromBaseline(file, `${path} → ${file}`);
  }
  if (basename(abs) === 'run.json') return fromRun(dirname(abs));
  return fromBaseline(abs, path);
}

function isNoiseProfile(value: unknown): value is Pick<NoiseProfile, 'kind' | 'metrics'> {
  const v = value as Partial<NoiseProfile> | null;
  return typeof v === 'object' && v !== null && v.kind === 'vmbench-noise' && Array.isArray(v.metrics);
}

/** The entries of a noise profile file the user named (--noise); input errors say what is wrong. */
export function readNoiseProfile(file: string): NoiseEntry[] {
  if (!existsSync(resolve(file))) throw new BenchError('input', `no such noise profile: ${file}`);
  const value = readJson(resolve(file));
  if (!isNoiseProfile(value)) {
    throw new BenchError('input', `${file} is not a vmbench noise profile (written by \`bench calibrate-noise\`)`);
  }
  return value.metrics;
}

/** Noise entries: an explicit file, else the baseline's own, else <scenario>.noise.json next to the baseline file. */
export function readNoise(explicit: string | undefined, baseline: GateSide): { entries: NoiseEntry[] | null; source: string | null } {
  if (explicit) return { entries: readNoiseProfile(explicit), source: explicit };
  if (baseline.baseline?.noise) return { entries: baseline.baseline.noise, source: `${baseline.file} (embedded)` };
  if (baseline.file) {
    const sibling = join(dirname(baseline.file), `${baseline.scenario}.noise.json`);
    if (existsSync(sibling)) {
      const value = readJson(sibling);
      if (isNoiseProfile(value)) return { entries: value.metrics, source: sibling };
    }
  }
  return { entries: null, source: null };
}

export function writeFileMkdir(file: string, text: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
}
