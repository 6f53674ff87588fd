import type { StoredRun } from '../../results/read-run.js';
import { sampleLabel } from '../../results/sample.js';

export const CSV_COLUMNS = ['run_id', 'metric', 'platform', 'kind', 'rep', 'warmup', 'value', 'unit', 'timestamp'] as const;

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per journaled sample (warm-ups included, flagged), in journal
 * order, every run after the other; `metric` is the display name (metric
 * and parameters, e.g. throughput@c=4). Values are written with JavaScript's
 * shortest round-trip form (locale-independent). Metadata is left out: it is
 * in results.json. Pure.
 */
export function serializeCsv(runs: readonly StoredRun[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const run of runs) {
    for (const s of run.samples) {
      lines.push([run.record.runId, sampleLabel(s), s.platform, s.kind, s.rep, s.warmup, s.value, s.unit, s.timestamp].map(csvField).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}
