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
  capacity?: CapacityConfig;
}

export function decisionFor(run: StoredRun, options: ReportOptions): DecisionConfig | null {
  return options.decision ?? recordedDecision(run.record);
}

/** The run's capacity block with the report's keys laid over it (a flag wins over the scenario). */
export function capacityFor(run: StoredRun, options: ReportOptions): CapacityConfig {
  const recorded = recordedCapacity(run.record) ?? {};
  const over = options.capacity ?? {};
  const host = recorded.host || over.host ? { currency: 'USD', ...recorded.host, ...over.host } : undefined;
  return { ...recorded, ...over, ...(host ? { host } : {}) };
}
