import type { PhaseLine } from '../workload/phase-lines.js';

/**
 * Startup phase timeline: where the time between the launch call and
 * readiness goes, as a platform reports it (startupPhases()). Every phase is
 * milliseconds after `lifecycle.launch` on the HARNESS's monotonic clock
 * (performance.now()); `lifecycle.launchEpochMs` is the wall-clock epoch of
 * that same moment.
 *
 *   created        the create call returned (container created / qemu spawned)
 *   started        the instance runs (container start returned / QMP says running)
 *   kernel_init    VM only: the guest's init printed `VMBENCH_PHASE init`
 *   process_start  the workload server's node process started
 *   listening      the server accepts connections
 *   gpu_context    device gpu only: the CUDA context exists and the CUDA provider is loaded
 *   model_loaded   the onnxruntime session exists (on the GPU: the weights are uploaded)
 *   ready          the warm-up inference ran; health/ready answers 200 from here on
 *
 * Phases that do not apply to a substrate are ABSENT (a container has no
 * kernel_init), never zero. How each substrate obtains them (and so the
 * resolution) is in src/platforms/docker/log-phases.ts and
 * src/platforms/linux-guest/console-phases.ts.
 *
 * Phases can overlap: a container's process_start (the server's own clock
 * reading at exec) happens during the start call and may precede `started`
 * (when the harness got that call's answer back). Values are reported as
 * measured, not clamped.
 *
 * Semantics differ slightly by source. Container: server phases are the
 * server's host-clock readings (process_start = the process's timeOrigin).
 * VM: every phase is when its console line reached the harness, so
 * process_start there is when the server PRINTED it (after node bootstrapped
 * and loaded the server module), later than the real exec; the timeline's
 * processStartEstimateMs gives the exec estimate from guest-clock intervals.
 */

export const PHASE_NAMES = [
  'created',
  'started',
  'kernel_init',
  'process_start',
  'listening',
  'gpu_context',
  'model_loaded',
  'ready',
] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** Server phases: printed by the workload server as `VMBENCH_PHASE <phase> <epoch-ms>`. */
export const SERVER_PHASE_NAMES = ['process_start', 'listening', 'gpu_context', 'model_loaded', 'ready'] as const;
export type ServerPhaseName = (typeof SERVER_PHASE_NAMES)[number];

/** Guest boot phases printed by the VM's initramfs/init with the guest's uptime in seconds. */
export type GuestBootPhase = 'initramfs' | 'init' | 'network' | 'sshd';
export const GUEST_BOOT_PHASES: readonly GuestBootPhase[] = ['initramfs', 'init', 'network', 'sshd'];

export interface PhaseTimeline {
  /** ms after lifecycle.launch on the harness's monotonic clock; absent = does not apply / not seen. */
  phases: Partial<Record<PhaseName, number>>;
  /** How far a phase value may be from the true moment (clock granularity or poll interval), ms. */
  resolutionMs: number;
  /** Where the values come from, e.g. 'docker-logs:server-epoch' or 'qemu-console:arrival'. */
  source: string;
  /**
   * Guest-reported values, on the guest's own clocks, kept as metadata only
   * (never converted to host offsets): boot phases' guest uptime in seconds.
   */
  guestUptimeS?: Partial<Record<GuestBootPhase, number>>;
  /** Server phases as the server's clock printed them (epoch ms); in a VM that clock is the guest's. */
  reportedEpochMs?: Partial<Record<ServerPhaseName, number>>;
  /** Phases whose line was seen more than once (the first one is used). */
  duplicates?: string[];
  /**
   * VM only, metadata: the node process's start re-estimated as
   * arrival(listening) − guest-clock(listening − process_start), ms after
   * launch. The `process_start` line is printed only once the server module
   * has loaded (its value is the process's timeOrigin), so its ARRIVAL trails
   * the real start by node's bootstrap; this estimate uses the guest clock's
   * rate over that short interval, never its absolute value.
   */
  processStartEstimateMs?: number;
}

/**
 * The first line of each phase (a line repeated later — a restarted server,
 * a re-read log — does not override it), plus which phases were repeated.
 * Input order does not matter for the result's keys; "first" means first in
 * the input (for arrival-timed lines: earliest atMono).
 */
export function firstPhaseLines(lines: readonly PhaseLine[]): { byPhase: Map<string, PhaseLine>; duplicates: string[] } {
  const byPhase = new Map<string, PhaseLine>();
  const dup = new Set<string>();
  for (const l of lines) {
    const prev = byPhase.get(l.phase);
    if (!prev) {
      byPhase.set(l.phase, l);
      continue;
    }
    dup.add(l.phase);
    if (l.atMono !== undefined && prev.atMono !== undefined && l.atMono < prev.atMono) byPhase.set(l.phase, l);
  }
  return { byPhase, duplicates: [...dup].sort() };
}

/** Host epoch ms → ms after the launch call (both on the host's wall clock). */
function epochToOffset(epochMs: number, launchEpochMs: number): number {
  return epochMs - launchEpochMs;
}

/** Monotonic ms → ms after the launch call. */
function monoToOffset(atMono: number, launchMono: number): number {
  return atMono - launchMono;
}

interface LifecycleLike {
  launch: number;
  launchEpochMs: number;
  created?: number;
  started?: number;
}

function lifecyclePhases(lc: LifecycleLike): Partial<Record<PhaseName, number>> {
  const phases: Partial<Record<PhaseName, number>> = {};
  if (lc.created !== undefined) phases.created = monoToOffset(lc.created, lc.launch);
  if (lc.started !== undefined) phases.started = monoToOffset(lc.started, lc.launch);
  return phases;
}

/** Keep only phases with a finite value, in PHASE_NAMES order. */
function ordered(phases: Partial<Record<PhaseName, number>>): Partial<Record<PhaseName, number>> {
  const out: Partial<Record<PhaseName, number>> = {};
  for (const n of PHASE_NAMES) {
    const v = phases[n];
    if (v !== undefined && Number.isFinite(v)) out[n] = v;
  }
  return out;
}

function reportedEpochs(byPhase: Map<string, PhaseLine>): Partial<Record<ServerPhaseName, number>> {
  const out: Partial<Record<ServerPhaseName, number>> = {};
  for (const n of SERVER_PHASE_NAMES) {
    const v = byPhase.get(n)?.epochMs;
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/**
 * Timeline of a process that shares the harness's wall clock (a container):
 * created/started from the lifecycle, server phases from the epoch ms they
 * printed, converted with launchEpochMs. Both clocks tick in whole ms, so
 * the resolution is 1 ms.
 */
export function timelineFromHostEpochLines(lc: LifecycleLike, lines: readonly PhaseLine[], source: string): PhaseTimeline {
  const { byPhase, duplicates } = firstPhaseLines(lines.filter((l) => (SERVER_PHASE_NAMES as readonly string[]).includes(l.phase)));
  const phases = lifecyclePhases(lc);
  for (const n of SERVER_PHASE_NAMES) {
    const v = byPhase.get(n)?.epochMs;
    if (v !== undefined) phases[n] = epochToOffset(v, lc.launchEpochMs);
  }
  const t: PhaseTimeline = { phases: ordered(phases), resolutionMs: 1, source, reportedEpochMs: reportedEpochs(byPhase) };
  if (duplicates.length) t.duplicates = duplicates;
  return t;
}

/**
 * Timeline of a VM from arrival-timed console lines: every phase is the
 * harness's monotonic time at which its line was seen (the guest's clock is
 * not trusted for host offsets); `init` becomes kernel_init. The guest's own
 * uptime for initramfs/init/network/sshd is kept as metadata.
 */
export function timelineFromArrivals(
  lc: LifecycleLike,
  lines: readonly PhaseLine[],
  resolutionMs: number,
  source: string,
): PhaseTimeline {
  const { byPhase, duplicates } = firstPhaseLines(lines.filter((l) => l.atMono !== undefined));
  const phases = lifecyclePhases(lc);
  const at = (name: string) => {
    const a = byPhase.get(name)?.atMono;
    return a === undefined ? undefined : monoToOffset(a, lc.launch);
  };
  const init = at('init');
  if (init !== undefined) phases.kernel_init = init;
  for (const n of SERVER_PHASE_NAMES) {
    const v = at(n);
    if (v !== undefined) phases[n] = v;
  }
  const guestUptimeS: Partial<Record<GuestBootPhase, number>> = {};
  for (const n of GUEST_BOOT_PHASES) {
    const v = byPhase.get(n)?.uptimeS;
    if (v !== undefined) guestUptimeS[n] = v;
  }
  const t: PhaseTimeline = {
    phases: ordered(phases),
    resolutionMs,
    source,
    guestUptimeS,
    reportedEpochMs: reportedEpochs(byPhase),
  };
  if (duplicates.length) t.duplicates = duplicates;
  const ps = byPhase.get('process_start')?.epochMs;
  const li = byPhase.get('listening');
  if (ps !== undefined && li?.epochMs !== undefined && li.atMono !== undefined && li.epochMs >= ps) {
    t.processStartEstimateMs = monoToOffset(li.atMono, lc.launch) - (li.epochMs - ps);
  }
  return t;
}
