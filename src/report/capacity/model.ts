/**
 * The capacity and cost arithmetic of the projection, on plain numbers (the
 * inputs come from measurements, see inputs.ts). Pure, and unit-tested on
 * hand-computed cases.
 *
 *   instances per host = min( memory bound: ⌊(host memory − a) ÷ b⌋, with host
 *                               memory of n instances ≈ a + b·n (the density
 *                               line; without density: a = 0, b = memory_host),
 *                             CPU bound: ⌊host cores ÷ CPUs per instance⌋,
 *                             density bound: the instances the density search
 *                               kept within the same p99 SLO, scaled by
 *                               host cores ÷ measuring host cores )
 *   req/s per host     = instances per host × req/s one instance serves at p99 ≤ SLO
 *   hosts needed       = ⌈target req/s ÷ req/s per host⌉
 *   host-hours per 10⁶ = 10⁶ ÷ (req/s served × 3600) × hosts, at the target
 *                        (at full SLO capacity of one host without a target)
 *   cost per 10⁶       = host-hours per 10⁶ × price per host-hour
 */

export interface HostProfile {
  cores: number;
  memoryMiB: number;
  pricePerHour: number | null;
}

export interface CapacityInputs {
  /** CPUs one instance is given (its quota or vCPUs). */
  cpusPerInstance: number | null;
  /** Host memory of n instances ≈ intercept + slope · n (MiB). */
  memoryLine: { intercept: number; slope: number } | null;
  /** Instances the density search kept within the projection's SLO, on a host with `hostCores` cores; null when it did not stop on the SLO. */
  densityLimit: { instances: number; hostCores: number } | null;
  /** Requests per second one instance served with p99 within the SLO. */
  throughputPerInstance: number | null;
}

export type Bound = 'memory' | 'cpu' | 'density';

export interface CapacityFigures {
  bounds: Partial<Record<Bound, number>>;
  instancesPerHost: number;
  /** Which bound set instancesPerHost. */
  binding: Bound;
  throughputPerHost: number;
  hostsNeeded: number | null;
  hostHoursPerMillion: number | null;
  costPerMillion: number | null;
  costPerHour: number | null;
}

const EPS = 1e-9;

/** The figures, or why they cannot be projected (an input not measured, or no instance fits). */
export function projectCapacity(inputs: CapacityInputs, host: HostProfile, targetRate: number | null): CapacityFigures | string {
  if (inputs.throughputPerInstance == null) return 'no measured load level met the p99 SLO (throughput at the SLO not measured)';
  if (inputs.throughputPerInstance <= 0) return 'no request met the p99 SLO at any measured load level';
  if (!inputs.memoryLine) return 'memory per instance not measured (neither the density search nor the memory reading)';
  const bounds: Partial<Record<Bound, number>> = {};
  if (inputs.memoryLine.slope > 0) {
    bounds.memory = Math.max(0, Math.floor((host.memoryMiB - Math.max(0, inputs.memoryLine.intercept)) / inputs.memoryLine.slope + EPS));
  }
  if (inputs.cpusPerInstance != null && inputs.cpusPerInstance > 0) bounds.cpu = Math.floor(host.cores / inputs.cpusPerInstance + EPS);
  if (inputs.densityLimit) bounds.density = Math.floor((inputs.densityLimit.instances * host.cores) / inputs.densityLimit.hostCores + EPS);
  const entries = Object.entries(bounds) as Array<[Bound, number]>;
  if (entries.length === 0) return 'memory per instance did not grow with instances, and the CPUs per instance are unknown';
  const [binding, instancesPerHost] = entries.reduce((best, e) => (e[1] < best[1] ? e : best));
  if (instancesPerHost < 1) {
    return binding === 'density'
      ? 'the density search kept no instance within the p99 SLO'
      : `not one instance fits on the host profile (${binding} bound: ${instancesPerHost})`;
  }
  const throughputPerHost = instancesPerHost * inputs.throughputPerInstance;
  const hostsNeeded = targetRate == null ? null : Math.ceil(targetRate / throughputPerHost - EPS);
  const hostHoursPerMillion = hostsNeeded == null ? 1e6 / (throughputPerHost * 3600) : (hostsNeeded * 1e6) / (targetRate! * 3600);
  const costPerMillion = host.pricePerHour == null ? null : hostHoursPerMillion * host.pricePerHour;
  const costPerHour = host.pricePerHour == null || hostsNeeded == null ? null : hostsNeeded * host.pricePerHour;
  return { bounds, instancesPerHost, binding, throughputPerHost, hostsNeeded, hostHoursPerMillion, costPerMillion, costPerHour };
}
