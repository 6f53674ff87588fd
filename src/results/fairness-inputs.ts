import type { Scenario } from '../scenario/schema.js';
import type { Environment } from './environment.js';
import { auditFairness, type FairnessAudit, type FairnessInput } from './fairness.js';
import type { StoredRun } from './read-run.js';
import { recordedPlatforms, recordedResources, recordedWorkload } from './recorded-scenario.js';

/** The audit's input from a parsed scenario, with the platform facts once platforms are prepared. */
export function fairnessInputOfScenario(s: Scenario, facts?: Environment['platforms'], hostCpus?: number): FairnessInput {
  return {
    platforms: s.platforms.map((p) => ({
      name: p.name,
      kind: p.kind,
      cpus: p.cpus,
      memoryBytes: p.memory,
      network: p.kind === 'docker' ? p.network : null,
      accel: p.kind === 'docker' ? null : p.accel,
    })),
    resources: s.resources ? { cpus: s.resources.cpus ?? null, memoryBytes: s.resources.memory ?? null } : null,
    threads: s.workload.threads,
    device: s.workload.device,
    ...(facts ? { facts } : {}),
    ...(hostCpus ? { hostCpus } : {}),
  };
}

/** The audit of a scenario about to run: once its platforms are prepared, with their facts (the runner records it). */
export function auditScenario(s: Scenario, facts?: Environment['platforms'], hostCpus?: number): FairnessAudit {
  return auditFairness(fairnessInputOfScenario(s, facts, hostCpus));
}

/** The audit of a stored run: its recorded scenario, the platform facts it recorded, and the pinning its load steps reported. */
export function fairnessOfRun(run: StoredRun): FairnessAudit {
  const r = run.record;
  const workload = recordedWorkload(r);
  const pinning: Record<string, string> = {};
  for (const s of run.samples) {
    if (!s.warmup && typeof s.metadata.pinning === 'string' && !(s.platform in pinning)) pinning[s.platform] = s.metadata.pinning;
  }
  return auditFairness({
    platforms: recordedPlatforms(r).map((p) => ({ name: p.name, kind: p.kind, cpus: p.cpus, memoryBytes: p.memoryBytes, network: p.network, accel: p.accel })),
    resources: recordedResources(r),
    threads: workload.threads,
    device: workload.device,
    hostCpus: r.environment.cores,
    facts: r.environment.platforms ?? {},
    pinning,
    loadMeasured: run.samples.some((s) => s.metric === 'throughput' || s.metric === 'neighbor_throughput'),
  });
}
