import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { BenchError, type FailureCategory } from '../errors.js';
import type { PlatformKind } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import type { GpuReading } from './gpu-reading.js';
import { localFs, type HostFs } from './host/host-fs.js';
import type { LoadSite } from './load-site.js';
import type { MemoryReading } from './memory-reading.js';
import type { Snapshot, SnapshotVariant } from './snapshot.js';
import type { PhaseTimeline } from './timeline.js';

/**
 * One interface for every substrate (PerfKit style): lifecycle timing lives in
 * this base class so every substrate gets the same create/start/stop
 * timestamps for free. A platform offers primitives — launch, stop, snapshot,
 * restore, read memory, read startup phases — and never measures anything
 * itself: what a metric means lives in src/measure/, once. Platforms never
 * assume they run on the local host: all they hand back is an endpoint
 * (always 127.0.0.1 here) and plain data.
 */

export type { PlatformKind };

/** Milliseconds on the harness's monotonic clock (performance.now()). */
export type MonoMs = number;

export interface Lifecycle {
  /** launch() (or restore()) was called. */
  launch: MonoMs;
  /** The create call returned (container created / qemu process spawned). */
  created?: MonoMs;
  /** The instance is running (container started / qemu pid alive). */
  started?: MonoMs;
  /** Set by the measurement that observed readiness (GET /v2/health/ready → 200). */
  ready?: MonoMs;
  /** Set by the measurement that observed the first successful inference. */
  firstInference?: MonoMs;
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
  readonly runId: string;
  readonly platformName: string;
  readonly kind: PlatformKind;
  /** Base URL of the workload server, e.g. http://127.0.0.1:18080 */
  readonly baseUrl: string;
  readonly lifecycle: Lifecycle;
  /** Facts about how it ran (accelerator, machine type, network mode, container id, pid…). */
  readonly facts: Record<string, string | number | boolean>;
  /** Where its readiness polls and load come from; absent: the controller (an instance on another host brings that host's helper). */
  readonly loadSite?: LoadSite;
}

/** What became of an instance that stopped serving (Platform.postMortem). */
export interface PostMortem {
  category: Extract<FailureCategory, 'instance_died' | 'oom_killed' | 'port_conflict' | 'engine_unavailable' | 'host_unreachable'>;
  detail: string;
}

export interface PlatformFacts {
  /** Everything worth recording about this platform for the environment fingerprint. */
  [key: string]: string | number | boolean | null;
}

export abstract class Platform<I extends Instance = Instance> {
  abstract readonly kind: PlatformKind;
  /** CPUs each instance gets (a container's quota, a VM's vCPUs). */
  abstract readonly cpus: number;
  /**
   * The files of the host the instances run on (its /proc and /sys): this
   * machine's, or — for a platform on a remote host — that host's, read
   * through the helper there. Host-side readings go through it.
   */
  hostFs: HostFs = localFs;
  constructor(readonly name: string) {}

  /** The host the instances run on: 'local' or the scenario's host name. */
  get hostName(): string {
    return this.hostFs.host;
  }

  /**
   * Why the connection to this platform's host was lost at or after
   * `sinceMono` (performance.now()), or null: the runner files a step that
   * failed meanwhile as host_unreachable. The local host is never lost.
   */
  hostLostSince(_sinceMono: number): string | null {
    return null;
  }

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
   * Optional: the GPU memory a running instance holds and the utilisation of
   * its GPU(s) (see gpu-reading.ts). Platforms without it cannot take part in
   * the gpu measurement.
   */
  gpuReading?(instance: I): Promise<GpuReading>;

  /**
   * Optional: where launch→ready went (created, started, kernel_init,
   * process_start, listening, model_loaded, ready; ms after lifecycle.launch on
   * the harness's monotonic clock; phases that do not apply are absent). Call
   * after readiness and before stop(). See src/platforms/timeline.ts.
   */
  startupPhases?(instance: I): Promise<PhaseTimeline>;

  /**
   * Optional: wall time of `count` trivial commands (`true`) run inside the
   * instance the way the harness reaches it (docker exec; SSH into a VM), in
   * ms each: the cost of the harness's own in-instance reads.
   */
  execRoundTripMs?(instance: I, count: number): Promise<number[]>;

  /**
   * Optional: the contents of a file inside a running instance, read the way
   * the harness reaches it (docker exec; SSH into a VM) — e.g. the rootfs
   * digest of an image workload, whose server knows nothing of vmbench.
   */
  readFileInside?(instance: I, path: string): Promise<string>;

  /**
   * Optional: after a step failed, what became of one of its instances —
   * null while it still runs, else the category (instance_died, oom_killed)
   * and what the engine says (exit code, signal). Lets the run record *why*
   * a sample failed instead of only the timeout it ran into.
   */
  postMortem?(instance: I): Promise<PostMortem | null>;

  /**
   * Optional: after a step failed, whether the substrate itself still works
   * (the engine answers, the remote host is reachable) — null when it does.
   */
  health?(): Promise<PostMortem | null>;

  /** Optional: restrict a running instance to these host CPUs (taskset list syntax, e.g. "0-1"). */
  pinCpus?(instance: I, cpus: string): Promise<void>;

  /**
   * Optional: snapshot a running instance (see src/platforms/snapshot.ts).
   * The instance may not serve afterwards (a VM's vCPUs are stopped for the
   * migration); the caller still stop()s it. The snapshot lives until
   * removeSnapshot().
   */
  snapshot?(instance: I): Promise<Snapshot>;
  /**
   * Optional, with snapshot(): a NEW instance from one variant of a snapshot.
   * Its lifecycle.launch is the restore call; stop() removes it like any other.
   */
  protected doRestore?(snapshot: Snapshot, variant: SnapshotVariant, spec: InstanceSpec, lifecycle: Lifecycle): Promise<I>;
  removeSnapshot?(snapshot: Snapshot): Promise<void>;

  /**
   * The kernel of the host the instances run on: its release and this boot's
   * id (/proc/sys/kernel/random/boot_id), to tell whether an instance shares
   * it. Read through hostFs: a platform on another host reads that host's.
   */
  async hostKernel(): Promise<{ release: string; bootId: string | null }> {
    const read = (p: string) => this.hostFs.readFile(p).then((t) => t.trim(), () => '');
    const [release, bootId] = await Promise.all([read('/proc/sys/kernel/osrelease'), read('/proc/sys/kernel/random/boot_id')]);
    return { release: release || 'unknown', bootId: bootId || null };
  }

  async launch(spec: InstanceSpec): Promise<I> {
    return this.doLaunch(spec, newLifecycle());
  }

  /** Whether restore() is available. */
  get canSnapshot(): boolean {
    return this.snapshot !== undefined && this.doRestore !== undefined;
  }

  async restore(snapshot: Snapshot, variant: SnapshotVariant, spec: InstanceSpec): Promise<I> {
    if (!this.doRestore) throw new BenchError('unsupported', `${this.name}: ${this.kind} cannot restore snapshots`);
    return this.doRestore(snapshot, variant, spec, newLifecycle());
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

function newLifecycle(): Lifecycle {
  return { launch: performance.now(), launchEpochMs: Date.now() };
}
