import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BenchError } from '../errors.js';
import { countedSamples } from './counted-samples.js';
import { readJournal } from './journal.js';
import { RUN_SCHEMA_VERSION, type RunRecord } from './run-record.js';
import type { Sample } from './sample.js';
import { upgradeV1Record, upgradeV1Sample } from './upgrade-v1.js';

/** The run.json schema versions this build can read (older ones are upgraded as they are read). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, RUN_SCHEMA_VERSION];

/** One stored run as read back from results/<run-id>/: everything a renderer or a gate needs. */
export interface StoredRun {
  /** Absolute path of the run's directory. */
  dir: string;
  record: RunRecord;
  /**
   * The run's samples, warmups included (flagged): those its statistics count
   * (countedSamples: not a failed step's, not a step re-run by a resume), or
   * every journaled one with `{ every: true }`.
   */
  samples: Sample[];
  /** What reading found wrong but could tolerate (a torn last line of samples.jsonl). */
  readNotes: string[];
}

/**
 * Reads results/<run-id>/run.json and samples.jsonl. Errors are the user's
 * (kind "input", exit 2) and say which file and what is wrong, including a
 * run.json written by a newer or older vmbench whose schema this build cannot read.
 */
export function readRun(path: string, opts: { every?: boolean } = {}): StoredRun {
  const dir = resolve(path);
  if (!existsSync(dir)) {
    throw new BenchError('input', `no such results directory: ${path}`, {
      hint: 'pass a directory under results/, e.g. results/<run-id>',
    });
  }
  const isDir = statSync(dir).isDirectory();
  const runPath = isDir ? join(dir, 'run.json') : dir;
  const runDir = isDir ? dir : resolve(dir, '..');
  if (!existsSync(runPath)) {
    throw new BenchError('input', `${path} has no run.json: it is not a vmbench results directory`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(runPath, 'utf8'));
  } catch (err) {
    throw new BenchError('input', `${runPath} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const record = checkRecord(parsed, runPath);
  const samplesPath = join(runDir, 'samples.jsonl');
  const journal = existsSync(samplesPath) ? readJournal(samplesPath) : { samples: [], tornLastLine: false };
  const readNotes = journal.tornLastLine ? [`${samplesPath}: its last line was cut off (a crash mid-write) and is left out`] : [];
  if ((record.schemaVersion as number) === 1) {
    return { dir: runDir, record: { ...upgradeV1Record(record), schemaVersion: RUN_SCHEMA_VERSION }, samples: journal.samples.map(upgradeV1Sample), readNotes };
  }
  return { dir: runDir, record, samples: opts.every ? journal.samples : countedSamples(journal.samples, record), readNotes };
}

function checkRecord(value: unknown, file: string): RunRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BenchError('input', `${file}: expected a JSON object (a vmbench run record)`);
  }
  const v = value as Record<string, unknown>;
  const version = v.schemaVersion;
  if (typeof version !== 'number') {
    throw new BenchError('input', `${file}: no schemaVersion: not a vmbench run record (${basename(file)})`);
  }
  if (!READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw new BenchError(
      'input',
      `${file}: run record schema version ${version} is not readable by this vmbench (reads ${READABLE_SCHEMA_VERSIONS.join(', ')})`,
      { hint: version > Math.max(...READABLE_SCHEMA_VERSIONS) ? 'upgrade vmbench to read it' : 're-run the scenario with this vmbench' },
    );
  }
  for (const key of ['runId', 'status', 'environment', 'summaries', 'ratios', 'warnings'] as const) {
    if (!(key in v)) throw new BenchError('input', `${file}: run record lacks "${key}"`);
  }
  return value as RunRecord;
}
