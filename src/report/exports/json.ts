import type { StoredRun } from '../../results/read-run.js';

/** Version of the exported results model (results.json). */
export const EXPORT_SCHEMA_VERSION = 1;

/**
 * The results model as JSON (hyperfine-style `--export-json`): every run's
 * record (run.json) and every journaled sample, warm-ups flagged. Pure; the
 * runs' directories are left out so the export does not depend on where the
 * results were read from.
 */
export function serializeJson(runs: readonly StoredRun[]): string {
  return JSON.stringify({ schemaVersion: EXPORT_SCHEMA_VERSION, runs: runs.map((r) => ({ record: r.record, samples: r.samples })) }, null, 2) + '\n';
}
