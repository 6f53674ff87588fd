import type { PhaseTimeline } from '../measure/phases.js';
import type { Artifact } from '../workload/artifact.js';
import type { MemoryReading } from './memory-types.js';
import type { SnapshotRestoreOptions, SnapshotRestoreResult } from '../measure/snapshot.js';

/**
 * One interface for every substrate (PerfKit style): lifecycle timing lives in
 * this base class so every substrate gets the same create/start/stop
 * timestamps for free. Platforms never assume they run on the local host: all
 * they hand back is an endpoint (always 127.0.0.1 here) and plain data.
 */

export type PlatformKind = 'docker' | 'qemu' | 'vagrant' | 'fake';

/** Milliseconds on the harness's monotonic clock (performance.now()). */
export type MonoMs = number;

export interface Lifecycle {
  /** launch() was called. */
  launch: MonoMs;
  /** The create call returned (container created / qemu process spawned). */
  created?: MonoMs;
  /** The instance is running (container started / qemu pid alive). */
  started?: MonoMs;
  /** Set by the caller (measure/startup) when readiness was observed. */
  ready?: MonoMs;
  stopBegin?: MonoMs;
  stopped?: MonoMs;
  /** Wall-clock epoch ms corresponding to `launch`, for journals. */
  launchEpochMs: number;
}

export interface InstanceSpec {
  runId: string;
  /** Unique per instance within a run, [a-z0-9-]. */
  instanceId: string;
  /** Host TCP port on 127.0.0.1 that reaches the server. */
  port: number;
  /** ORT intra-op threads. */
  threads: number;
  modelName: string;
}

export interface Instance {
  readonly id: string;
  readonly platformName: string;
  readonly kind: PlatformKind;
  /** Base URL of the workload server, e.g. http://127.0.0.1:18080 */
  readonly baseUrl: string;
  readonly lifecycle: Lifecycle;
  /** Facts about how it ran (accelerator, machine type, network mode, container id, pid…). */
  readonly facts: Record<string, string | number | boolean>;
}

export interface PlatformFacts {
  /** Everything worth recording about this platform for the environment fingerprint. */
  [key: string]: string | number | boolean | null;
}

export abstract class Platform<I extends Instance = Instance> {
  abstract readonly kind: PlatformKind;
  constructor(readonly name: string) {}

  /** Check the engine is usable and learn its versions; called once before a run. */
  abstract prepare(artifact: Artifact): Promise<PlatformFacts>;

  /** Subclasses create and start the instance, calling mark() for 'created' and 'started'. */
  protected abstract doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<I>;
  protected abstract doStop(instance: I): Promise<void>;
  /** Remove every leftover of a run (by label/name/pidfile), whatever state it is in. */
  abstract cleanupRun(runId: string): Promise<void>;

  /**
   * Optional: host memory attributable to a running instance and the workload
   * server's own memory inside it (see src/measure/memory.ts for the definition).
   * Platforms without it cannot take part in memory measurements.
   */
  memoryReading?(instance: I): Promise<MemoryReading>;

  /**
   * Optional: where launch→ready went (created, started, kernel_init,
   * process_start, listening, model_loaded, ready; ms after lifecycle.launch on
   * the harness's monotonic clock; phases that do not apply are absent). Call
   * after readiness and before stop(). See src/measure/phases.ts.
   */
  startupPhases?(instance: I): Promise<PhaseTimeline>;

  /**
   * Optional: wall time of `count` trivial commands (`true`) run inside the
   * instance the way the harness reaches it (docker exec; SSH into a VM), in
   * ms each: the cost of the harness's own in-instance reads.
   */
  execRoundTripMs?(instance: I, count: number): Promise<number[]>;

  /** Optional: restrict a running instance to these host CPUs (taskset list syntax, e.g. "0-1"). */
  pinCpus?(instance: I, cpus: string): Promise<void>;

  /**
   * Optional: snapshot/restore start. Launch a fresh instance, wait until it
   * answers an inference, snapshot it, stop it; restore a NEW instance from the
   * snapshot and measure restore call → first inference; remove everything.
   * See src/measure/snapshot.ts.
   */
  snapshotRestore?(spec: InstanceSpec, opts: SnapshotRestoreOptions): Promise<SnapshotRestoreResult>;

  async launch(spec: InstanceSpec): Promise<I> {
    const lifecycle: Lifecycle = { launch: performance.now(), launchEpochMs: Date.now() };
    return this.doLaunch(spec, lifecycle);
  }

  async stop(instance: I): Promise<void> {
    instance.lifecycle.stopBegin = performance.now();
    try {
      await this.doStop(instance);
    } finally {
      instance.lifecycle.stopped = performance.now();
    }
  }

  protected mark(lifecycle: Lifecycle, phase: 'created' | 'started'): void {
    lifecycle[phase] = performance.now();
  }
}
