/**
 * I/O for the gate commands: reading a side of a comparison (a results
 * directory, a saved baseline file, or a baselines/ directory resolved by the
 * other side's host key and scenario), noise profiles, and writing output files.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BenchError } from '../errors.js';
import { upgradeV1Sample } from '../results/upgrade-v1.js';
import { baselinePath, baselineProblems, hostFingerprint, hostKey, scenarioNameOf, type BaselineFile, type HostFingerprint } from '../gate/baseline.js';
import type { NoiseEntry, NoiseProfile } from '../gate/noise.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import type { Sample } from '../results/sample.js';
import type { RunRecord } from '../results/run-record.js';

export interface GateSide {
  /** What the user passed, for messages. */
  label: string;
  kind: 'run' | 'baseline';
  scenario: string;
  host: HostFingerprint;
  hostKey: string;
  samples: Sample[];
  /** The run record, for a results directory. */
  record: RunRecord | null;
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
  const b = value as BaselineFile;
  // Baselines saved from runs of schema version 1 hold their samples' parameters in the names.
  return { ...b, samples: b.samples.map(upgradeV1Sample) };
}

/** A run already read (by readRun) as a side of a comparison; `label` is what the user passed. */
export function sideOfRun(label: string, run: StoredRun): GateSide {
  const host = hostFingerprint(run.record.environment);
  return {
    label,
    kind: 'run',
    scenario: scenarioNameOf(run.record),
    host,
    hostKey: hostKey(host),
    samples: run.samples,
    record: run.record,
    baseline: null,
    file: null,
  };
}

function fromRun(path: string): GateSide {
  return sideOfRun(path, readRun(path));
}

function fromBaseline(file: string, label: string): GateSide {
  const b = readBaselineFile(file);
  return { label, kind: 'baseline', scenario: b.scenario, host: b.host, hostKey: b.hostKey, samples: b.samples, record: null, baseline: b, file };
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
