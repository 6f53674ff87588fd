import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ALL_PARTS, renderReport, type ReportPart } from '../report/build.js';
import type { ReportOptions } from '../report/options.js';
import type { StoredRun } from '../results/read-run.js';

/** The default report directory: reports/<run-id> (several runs: reports/<id>+<id>…), relative to the working directory. */
export function defaultReportDir(runs: readonly StoredRun[], root = 'reports'): string {
  return resolve(root, runs.map((r) => r.record.runId).join('+'));
}

/**
 * Renders the report parts from the stored runs and writes them under outDir
 * (the only I/O of reporting; used by `bench report` and at the end of `bench run`).
 * Returns the written paths, relative to outDir, in a stable order.
 */
export async function writeReport(runs: readonly StoredRun[], outDir: string, parts: readonly ReportPart[], options: ReportOptions = {}): Promise<string[]> {
  const files = await renderReport(runs, parts, options);
  for (const f of files) {
    const path = join(outDir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
  }
  return files.map((f) => f.path);
}

/** Report parts a scenario's report.formats asks for (json and markdown are written into the results directory instead). */
export function partsFromFormats(formats: readonly string[]): ReportPart[] {
  return ALL_PARTS.filter((p) => formats.includes(p));
}
