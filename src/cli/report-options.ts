import { BenchError } from '../errors.js';
import type { CapacityOverrides, ReportOptions } from '../report/options.js';
import { substratesOfRun } from '../report/run-view.js';
import type { StoredRun } from '../results/read-run.js';
import { loadScenarioFile } from '../scenario/load.js';
import { parseDuration, parseSize } from '../scenario/units.js';

/** The `bench report` flags that shape the analysis (ratios, decision, capacity). */
export interface AnalysisFlags {
  reference?: string;
  scenario?: string;
  targetRate?: string;
  sloP99?: string;
  hostCores?: string;
  hostMemory?: string;
  pricePerHour?: string;
  currency?: string;
}

function positive(flag: string, text: string, allowZero = false): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new BenchError('usage', `${flag}: expected a number ${allowZero ? 'of at least 0' : 'above 0'}, got "${text}"`);
  return v;
}

function flagged<T>(flag: string, text: string, parse: (t: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw new BenchError('usage', `${flag}: ${(err as Error).message}`);
  }
}

/**
 * Report options from flags: a scenario file's decision, capacity and
 * report.reference first (validated with file:line:column like any
 * scenario), then each flag over them. A --reference must name a platform of
 * every run.
 */
export async function reportOptionsFrom(flags: AnalysisFlags, runs: readonly StoredRun[]): Promise<ReportOptions> {
  const out: ReportOptions = {};
  let capacity: CapacityOverrides = {};
  if (flags.scenario) {
    const s = (await loadScenarioFile(flags.scenario)).scenario;
    if (s.decision) out.decision = s.decision;
    if (s.capacity) capacity = s.capacity;
    if (s.report.reference) out.reference = s.report.reference;
  }
  if (flags.reference) out.reference = flags.reference;
  if (out.reference) {
    for (const run of runs) {
      const names = substratesOfRun(run).map((s) => s.platform);
      if (!names.includes(out.reference)) {
        throw new BenchError('input', `--reference ${out.reference}: run ${run.record.runId} has no such platform (it has ${names.join(', ')})`);
      }
    }
  }
  const host = { ...capacity.host };
  if (flags.hostCores) host.cores = positive('--host-cores', flags.hostCores);
  if (flags.hostMemory) host.memory = flagged('--host-memory', flags.hostMemory, parseSize);
  if (flags.pricePerHour) host.price_per_hour = positive('--price-per-hour', flags.pricePerHour, true);
  if (flags.currency) host.currency = flags.currency;
  if (flags.targetRate) capacity.target_rate = positive('--target-rate', flags.targetRate);
  if (flags.sloP99) capacity.slo_p99 = flagged('--slo-p99', flags.sloP99, parseDuration);
  if (capacity.host || flags.hostCores || flags.hostMemory || flags.pricePerHour || flags.currency) capacity.host = host;
  if (Object.keys(capacity).length) out.capacity = capacity;
  return out;
}
