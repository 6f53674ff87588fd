import type { Scenario } from '../scenario/schema.js';
import type { PlanStep } from './plan.js';

/**
 * How long a plan will take, before anything runs: each step's expected time
 * from what it does (launches, fixed windows, requests) and typical costs of
 * each substrate. The typical costs are this project's own measurements on a
 * 2-core host without KVM (README, "Performance notes"): a VM boots and loads
 * the model in about a minute under TCG, an inference takes seconds. On a KVM
 * host a VM is much faster, so for VMs this is an upper estimate; it exists
 * to catch a plan of days (a typo of 100000 repetitions), not to predict
 * minutes.
 */

interface KindCost {
  /** launch → ready, ms */
  ready: number;
  /** one inference, ms */
  inference: number;
  /** stop, ms */
  stop: number;
}

const COST: Record<string, KindCost> = {
  docker: { ready: 1_000, inference: 50, stop: 500 },
  qemu: { ready: 75_000, inference: 30_000, stop: 3_000 },
  vagrant: { ready: 90_000, inference: 30_000, stop: 5_000 },
  fake: { ready: 10, inference: 1, stop: 1 },
};

export interface PlanEstimate {
  totalMs: number;
  byMeasurement: Record<string, number>;
}

function stepMs(step: PlanStep, kind: string, s: Scenario): number {
  const c = COST[kind] ?? COST.qemu!;
  const m = s.measurements;
  const launched = step.rides === undefined;
  const boot = (n = 1) => n * (c.ready + c.stop);
  switch (step.measurement) {
    case 'image_size':
      return 0;
    case 'startup':
      return boot();
    case 'cold_start':
      return boot() + c.inference;
    case 'calibration':
      return (launched ? boot() : 0) + 1_000;
    case 'memory':
      return (launched ? boot() : 0) + (m.memory?.settle ?? 0) + 2_000 + (m.memory?.ksm ? 60_000 : 0);
    case 'network':
      return (launched ? boot() : 0) + (m.network?.requests ?? 0) * 3;
    case 'isolation':
      return (launched ? boot() : 0) + 10_000;
    case 'throughput': {
      const t = m.throughput!;
      const levels = t.mode === 'open' ? (t.rates?.length ?? 0) : t.connections.length;
      return (launched ? boot() : 0) + levels * (t.warmup + t.duration) + (t.slo_p99 !== undefined ? 8 * Math.min(t.duration, 5_000) : 0);
    }
    case 'density': {
      const d = m.density!;
      return d.max_instances * (c.ready + 2_000 + 3_500 + c.stop);
    }
    case 'neighbors': {
      const n = m.neighbors!;
      const k = Math.max(...n.counts);
      const window = Math.max(n.duration, 3 * 2 * c.inference);
      return boot(k + 1) + n.counts.length * (n.warmup + window) + window + c.inference;
    }
    case 'gpu': {
      // Inference on a GPU, never emulated (passthrough needs KVM): a container's CPU inference cost bounds it.
      const g = m.gpu!;
      return (launched ? boot() : 0) + g.batch_sizes.reduce((ms, b) => ms + (g.warmup + g.requests) * COST.docker!.inference * Math.max(1, b / 8), 0);
    }
    case 'snapshot':
      return (launched ? boot() + c.inference : 0) + 2 * (c.inference + 10_000 + c.stop);
  }
}

export function estimatePlan(steps: readonly PlanStep[], s: Scenario): PlanEstimate {
  const kindOf = new Map(s.platforms.map((p) => [p.name, p.kind as string]));
  const byMeasurement: Record<string, number> = {};
  let totalMs = 0;
  for (const step of steps) {
    const ms = stepMs(step, kindOf.get(step.platform) ?? 'qemu', s);
    byMeasurement[step.measurement] = (byMeasurement[step.measurement] ?? 0) + ms;
    totalMs += ms;
  }
  return { totalMs, byMeasurement };
}

/** Plans estimated beyond this are refused unless --allow-long. */
export const LONG_RUN_MS = 24 * 3_600_000;
