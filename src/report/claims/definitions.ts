import type { DriverId } from '../../scenario/decision.js';

/**
 * The seed's containers-vs-VMs claims, each with an explicit, written verdict
 * rule, re-derived from one run's stored results for every substrate against
 * the run's reference. Pure.
 *
 * Rules (also printed in the decision report): a claim states a contrast
 * ("containers at most X, VMs at least Y"). For a VM against a container
 * reference (or the reverse) it is CONFIRMED when the measured medians show
 * that contrast at least as strongly as claimed — the container's median is
 * within or better than its claimed range AND the VM's median is within or
 * worse than its claimed range (for qualitative claims: the ratio rule written
 * on the claim); REFUTED when either side contradicts it; INCONCLUSIVE when
 * the measurement was capped before it could decide (e.g. density stopped at
 * max_instances below the claimed range); NOT MEASURED when the run has no
 * value for the metric on one of the two substrates. A substrate on the same
 * side as the reference (crun beside runc) is held to its side's part of the
 * claim alone; a claim that only states a contrast is NOT APPLICABLE to it.
 */
export type Verdict = 'confirmed' | 'refuted' | 'inconclusive' | 'not measured' | 'not applicable';

export type Better = 'lower' | 'higher';

export interface Claim {
  id: DriverId;
  topic: string;
  metric: string;
  containerClaim: string;
  vmClaim: string;
  better: Better;
  /** The verdict rule in words. */
  rule: string;
  /** Whether VM figures of this metric are distorted by TCG emulation. */
  tcgSensitive: boolean;
}

export const CLAIMS: readonly Claim[] = [
  {
    id: 'startup', topic: 'Startup time', metric: 'startup', containerClaim: '< 1 s', vmClaim: '30–60 s', better: 'lower', tcgSensitive: true,
    rule: 'confirmed when median startup is ≤ 1 s for the container and ≥ 30 s for the VM (a VM slower than 60 s still bears the contrast out); refuted otherwise',
  },
  {
    id: 'image-size', topic: 'Image size', metric: 'image_size', containerClaim: '10 MB – 1 GB', vmClaim: '1 – 20 GB', better: 'lower', tcgSensitive: false,
    rule: 'confirmed when the container image is ≤ 1 GB (953.7 MiB) and the VM image (disk + kernel + initramfs) ≥ 1 GB; refuted otherwise',
  },
  {
    id: 'memory-overhead', topic: 'Memory overhead', metric: 'memory_overhead_pct', containerClaim: '~0–5 %', vmClaim: '~5–15 %', better: 'lower', tcgSensitive: true,
    rule: 'overhead = (host memory − workload PSS) ÷ workload PSS; confirmed when the container\'s median is ≤ 5 % and the VM\'s ≥ 5 %; refuted otherwise',
  },
  {
    id: 'density', topic: 'Density', metric: 'density_max_instances', containerClaim: 'tens–hundreds per host', vmClaim: 'single digits per host', better: 'higher', tcgSensitive: true,
    rule: 'confirmed when the container reached ≥ 10 instances and the VM ≤ 9 within the scenario\'s memory budget and p99 SLO; inconclusive when the container stopped at max_instances below 10 (the cap, not the host, stopped it); refuted otherwise',
  },
  {
    id: 'cold-start', topic: 'Cold-start latency', metric: 'cold_start', containerClaim: 'low (model load dominates)', vmClaim: 'high (OS boot + model load)', better: 'lower', tcgSensitive: true,
    rule: 'confirmed when the VM\'s median cold start is ≥ 2× the container\'s (and the bootstrap CI of that ratio lies above 1 when there is one); refuted otherwise. The phase breakdown (model load share, OS boot time) is given as evidence',
  },
  {
    id: 'snapshot', topic: 'Snapshot/rollback speed', metric: 'snapshot_restore', containerClaim: 'fast (image layers)', vmClaim: 'slow (full disk image)', better: 'lower', tcgSensitive: true,
    rule: 'restore call → first successful inference; confirmed when the container restores faster than the VM (VM ÷ container > 1, CI above 1 when there is one); refuted otherwise',
  },
  {
    id: 'network', topic: 'Networking latency', metric: 'network_rtt_p50', containerClaim: 'fast (host/overlay)', vmClaim: 'higher latency (bridged/NAT)', better: 'lower', tcgSensitive: true,
    rule: 'median round trip of a no-inference request; confirmed when the VM\'s p50 is higher than the container\'s; refuted otherwise',
  },
];

/** The seed's isolation row: measured from inside each instance when the run read isolation facts. */
export const ISOLATION_CLAIM = {
  topic: 'Isolation level',
  containerClaim: 'process-level (shared host kernel)',
  vmClaim: 'full OS-level (own kernel, hardware virtualisation)',
  rule: 'from the facts read inside each instance: confirmed when a container shares the host kernel (same boot id) and a VM runs its own; refuted otherwise; not measured without facts (the kernel implied by the platform kind is shown, with that provenance)',
} as const;

/** Rows of the seed table this tool cannot measure. */
export const NOT_MEASURABLE: ReadonlyArray<{ topic: string; containerClaim: string; vmClaim: string }> = [
  { topic: 'Orchestration', containerClaim: 'mature (Kubernetes, …)', vmClaim: 'heavier (VM managers, …)' },
  { topic: 'Portability', containerClaim: 'high (image runs on any host with a compatible kernel)', vmClaim: 'lower (hypervisor-specific images)' },
];
