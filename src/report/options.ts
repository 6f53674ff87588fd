import type { StoredRun } from '../results/read-run.js';
import { recordedCapacity, recordedDecision } from '../results/recorded-scenario.js';
import type { CapacityConfig } from '../scenario/capacity.js';
import type { DecisionConfig } from '../scenario/decision.js';

/**
 * What a report is asked for beyond the stored runs: `bench report` flags or
 * a scenario file's blocks, each overriding what the run's own scenario
 * recorded. Empty: every run is reported as its scenario says.
 */
export interface ReportOptions {
  /** The platform ratios and claims are taken against (else report.reference, else the default). */
  reference?: string;
  /** Requirements and weights (else the run's decision block, else none and equal weights). */
  decision?: DecisionConfig;
  /** Capacity target and host profile, key by key over the run's capacity block. */
  capacity?: CapacityOverrides;
}

/** Capacity keys a report may set; each one given replaces the run's own. */
export interface CapacityOverrides {
  target_rate?: number;
  slo_p99?: number;
  host?: Partial<NonNullable<CapacityConfig['host']>>;
}

export function decisionFor(run: StoredRun, options: ReportOptions): DecisionConfig | null {
  return options.decision ?? recordedDecision(run.record);
}

/** The run's capacity block with the report's keys laid over it (a flag wins over the scenario). */
export function capacityFor(run: StoredRun, options: ReportOptions): CapacityConfig {
  const recorded = recordedCapacity(run.record) ?? {};
  const over = options.capacity ?? {};
  const host = recorded.host || over.host ? { ...recorded.host, ...over.host, currency: over.host?.currency ?? recorded.host?.currency ?? 'USD' } : undefined;
  const { host: _recordedHost, ...recordedRest } = recorded;
  const { host: _overHost, ...overRest } = over;
  return { ...recordedRest, ...overRest, ...(host ? { host } : {}) };
}
