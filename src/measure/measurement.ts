import type { Instance, Platform } from '../platforms/platform.js';
import type { Snapshot, SnapshotVariant } from '../platforms/snapshot.js';
import type { Sample, SampleParams } from '../results/sample.js';
import type { Scenario } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import type { ServerProtocol } from '../workload/server-protocol.js';

/**
 * The one shape every measurement has. A measurement is planned as steps
 * (one per platform and round) by src/runner/plan.ts, so `runner.order` and
 * `runner.seed` apply to all of them alike; each step asks the platform for
 * instances and primitives through its StepContext and hands back sample
 * values, which the runner stamps and journals. What a metric means is
 * defined here, in src/measure/, once.
 */

export type MeasurementName =
  | 'image_size'
  | 'startup'
  | 'cold_start'
  | 'calibration'
  | 'memory'
  | 'network'
  | 'throughput'
  | 'density'
  | 'snapshot'
  | 'isolation'
  | 'neighbors'
  | 'gpu';

/** A measured value before the runner stamps it with platform, kind, rep, warmup and time. */
export interface SampleValue {
  metric: string;
  value: number;
  unit: Sample['unit'];
  params?: SampleParams;
  metadata: Sample['metadata'];
  /** Repetition index when one step yields several (e.g. n exec round trips); default: the step's. */
  rep?: number;
  /** Progress shows it (default) or only journals it (sub-figures such as phases). */
  quiet?: boolean;
}

/**
 * What a step may use of the instance it rides on: the instance a previous
 * step of the same platform launched and left running for it (the plan
 * decides which steps share; see runner/plan.ts).
 */
export interface SharedInstance {
  readonly instance: Instance;
  /** The first successful inference on it, when the step that launched it waited for one. */
  firstInference?: { ms: number; body: Buffer };
}

export interface StepContext {
  readonly platform: Platform;
  readonly runId: string;
  readonly rep: number;
  readonly warmup: boolean;
  readonly artifact: Artifact;
  /** How this run talks to its server: readiness path, the no-inference path, the one inference request. */
  readonly protocol: ServerProtocol;
  readonly threads: number;
  readonly pollIntervalMs: number;
  readonly signal: AbortSignal;
  /** Longest wait for an instance this step launches itself to become ready. */
  readonly readyTimeoutMs: number;
  /** CPUs the platform's instances get (to keep the load generator off them). */
  readonly instanceCpus: number;
  /** The instance this step rides on; undefined when it launches its own. */
  readonly shared: SharedInstance | undefined;
  /**
   * Launch a fresh instance (tracked: stopped at the latest when the step's
   * group ends). The first instance a launching step starts is shared with
   * the steps the plan lets ride on it. `name` distinguishes several.
   */
  launch(name?: string): Promise<Instance>;
  /** A ready instance: the shared one, or a fresh one launched and waited for. */
  readyInstance(): Promise<Instance>;
  /** Restore a new instance from a snapshot variant (tracked like launch). */
  restore(snapshot: Snapshot, variant: SnapshotVariant, name: string): Promise<Instance>;
  stop(instance: Instance): Promise<void>;
  /** Record the first successful inference of the instance being shared (for the steps riding on it). */
  noteFirstInference(instance: Instance, ms: number, body: Buffer): void;
  /** The rootfs digest the server reads inside; anything but the artifact's aborts the run. */
  digestInside(instance: Instance): Promise<string>;
  emit(value: SampleValue, from?: Instance): void;
  warn(message: string): void;
  info(message: string): void;
  throwIfAborted(): void;
}

/**
 * How a measurement uses instances, which decides what the plan may share:
 *  - fresh:    it launches (and times) its own new instance; later steps may ride on it
 *  - ready:    it needs a ready instance, fresh or not: it rides on one when the plan has one
 *  - answered: it needs an instance that has answered an inference (rides on a cold start)
 *  - self:     it manages its own instances (density)
 *  - none:     it needs no instance (image size)
 */
export type InstanceUse = 'fresh' | 'ready' | 'answered' | 'self' | 'none';

export interface Measurement {
  readonly name: MeasurementName;
  readonly uses: InstanceUse;
  /**
   * What a fresh instance of this measurement offers the steps that may ride
   * on it once it is done: 'ready' (it was waited for until ready) or
   * 'answered' (it answered an inference too).
   */
  readonly leaves?: 'ready' | 'answered';
  /** How many rounds per platform (warm-ups first), or null when the scenario does not ask for it. */
  rounds(s: Scenario): { rounds: number; warmup: number } | null;
  /** Why a platform cannot take part (warned and skipped), or null when it can. */
  unsupported?(platform: Platform, s: Scenario): string | null;
  run(ctx: StepContext, s: Scenario): Promise<void>;
}

/** A single unmeasured-warm-up-free round, for the measurements a scenario asks for once. */
export function onceIf(present: unknown): { rounds: number; warmup: number } | null {
  return present === undefined ? null : { rounds: 1, warmup: 0 };
}
