import { BenchError, messageOf } from '../errors.js';
import type { Instance } from '../platforms/platform.js';
import type { Snapshot, SnapshotVariant } from '../platforms/snapshot.js';
import type { Sample } from '../results/sample.js';
import { onceIf, type Measurement, type SampleValue, type StepContext } from './measurement.js';
import { measureColdStart, waitFailure, whileAlive } from './startup.js';

/**
 * Snapshot/restore start: the "snapshot/rollback speed" row of the comparison.
 *
 * An instance that has answered an inference (model loaded) is snapshotted
 * with the platform's snapshot() primitive and stopped; each variant of the
 * snapshot is restored into a NEW instance, and restore call → first
 * successful inference is measured (the same poll as a cold start, on the
 * restored instance, whose lifecycle.launch is the restore call). The
 * fastest variant is the headline; every variant is recorded. The instance
 * snapshotted is the cold start's when the plan lets this step ride on one
 * (its launch → first inference is then that cold start's), else a fresh one.
 */

export interface RestoreMeasurement {
  variant: SnapshotVariant;
  /** Restore call → first HTTP 200 inference (ms). */
  restoreToFirstInferenceMs: number;
  /** Named sub-steps of the restore, ms after the restore call. */
  restorePhasesMs: Record<string, number>;
  restoredMemoryBytes?: number;
}

export interface SnapshotRestoreResult {
  snapshot: Snapshot;
  /** Fresh launch → first inference of the instance that was snapshotted. */
  freshLaunchToFirstInferenceMs: number;
  /** Every variant restored, in the snapshot's order. */
  restores: RestoreMeasurement[];
  notes: string[];
}

/** The restore with the fastest restore → first inference (the one a result reports). */
export function fastestRestore(restores: readonly RestoreMeasurement[]): RestoreMeasurement {
  if (!restores.length) throw new BenchError('internal', 'no snapshot variant was restored');
  return restores.reduce((a, b) => (b.restoreToFirstInferenceMs < a.restoreToFirstInferenceMs ? b : a));
}

/**
 * Samples of one platform's snapshot/restore: restore → first inference (the
 * fastest variant), the fresh launch → first inference of the instance that
 * was snapshotted, time to take the snapshot, its size, and the restored
 * instance's host memory when the platform can read it.
 */
export function snapshotSampleValues(r: SnapshotRestoreResult): SampleValue[] {
  const best = fastestRestore(r.restores);
  const metadata: Sample['metadata'] = {
    method: best.variant.method,
    notes: [...r.snapshot.notes, ...r.notes].join(' | ') || null,
    variants: r.restores.map((v) => `${v.variant.method}: ${v.restoreToFirstInferenceMs.toFixed(0)} ms`).join(' | '),
    process_memory: r.snapshot.processMemory,
    ...Object.fromEntries(Object.entries(best.restorePhasesMs).map(([k, v]) => [`restore_${k}_ms`, Math.round(v)])),
    ...r.snapshot.facts,
  };
  const out: SampleValue[] = [
    { metric: 'snapshot_restore', value: best.restoreToFirstInferenceMs, unit: 'ms', metadata },
    { metric: 'snapshot_fresh', value: r.freshLaunchToFirstInferenceMs, unit: 'ms', metadata },
    { metric: 'snapshot_take', value: best.variant.takeMs, unit: 'ms', metadata },
    { metric: 'snapshot_size', value: best.variant.bytes / 2 ** 20, unit: 'MiB', metadata },
  ];
  if (best.restoredMemoryBytes !== undefined) {
    out.push({ metric: 'snapshot_restored_memory', value: best.restoredMemoryBytes / 2 ** 20, unit: 'MiB', metadata });
  }
  return out;
}

/** The instance to snapshot and its launch → first inference: the shared cold start's, or a fresh one. */
async function answeredInstance(ctx: StepContext, timeoutMs: number): Promise<{ instance: Instance; ms: number }> {
  const answered = ctx.shared?.firstInference;
  if (ctx.shared && answered) return { instance: ctx.shared.instance, ms: answered.ms };
  const instance = await ctx.launch();
  const r = await measureColdStart(instance, ctx.protocol.infer, { intervalMs: ctx.pollIntervalMs, requestTimeoutMs: 1000, timeoutMs, signal: ctx.signal }).catch(
    (cause: unknown) => {
      throw waitFailure(ctx, `${ctx.platform.name}: snapshot: no inference answer within ${timeoutMs} ms`, cause);
    },
  );
  await ctx.digestInside(instance);
  return { instance, ms: r.ms };
}

async function restoreOne(ctx: StepContext, snapshot: Snapshot, variant: SnapshotVariant, timeoutMs: number, notes: string[]): Promise<RestoreMeasurement> {
  const restored = await ctx.restore(snapshot, variant, `restored-${variant.name}`);
  try {
    const r = await whileAlive(ctx.platform, restored, (check) =>
      measureColdStart(restored, ctx.protocol.infer, { intervalMs: ctx.pollIntervalMs, requestTimeoutMs: 1000, timeoutMs, signal: ctx.signal, check }),
    ).catch(
      (cause: unknown) => {
        throw waitFailure(ctx, `${ctx.platform.name}: snapshot ${variant.name}: the restored instance did not answer within ${timeoutMs} ms`, cause);
      },
    );
    const lc = restored.lifecycle;
    const phases: Record<string, number> = {};
    if (lc.created !== undefined) phases.created = lc.created - lc.launch;
    if (lc.started !== undefined) phases.started = lc.started - lc.launch;
    for (const [k, v] of Object.entries(restored.facts)) {
      const m = /^restore_(.+)_ms$/.exec(k);
      if (m && typeof v === 'number') phases[m[1]!] = v;
    }
    phases.first_inference = r.ms;
    const out: RestoreMeasurement = { variant, restoreToFirstInferenceMs: r.ms, restorePhasesMs: phases };
    if (ctx.platform.memoryReading) {
      try {
        out.restoredMemoryBytes = (await ctx.platform.memoryReading(restored)).host.attributableBytes;
      } catch (err) {
        notes.push(`${variant.name}: memory reading of the restored instance failed: ${messageOf(err)}`);
      }
    }
    ctx.info(`${ctx.platform.name}: restore ${variant.name} → first inference ${r.ms.toFixed(0)} ms`);
    return out;
  } finally {
    await ctx.stop(restored);
  }
}

/** snapshot: snapshot an instance that has answered, restore each variant, time to first inference. */
export const snapshotMeasurement: Measurement = {
  name: 'snapshot',
  uses: 'answered',
  rounds: (s) => onceIf(s.measurements.snapshot),
  unsupported: (platform) => (platform.canSnapshot ? null : `${platform.kind} cannot snapshot/restore`),
  async run(ctx, s) {
    const timeoutMs = s.measurements.snapshot!.timeout;
    const { instance, ms } = await answeredInstance(ctx, timeoutMs);
    const snapshot = await ctx.platform.snapshot!(instance);
    const notes: string[] = [];
    try {
      await ctx.stop(instance);
      const restores: RestoreMeasurement[] = [];
      for (const variant of snapshot.variants) {
        ctx.throwIfAborted();
        restores.push(await restoreOne(ctx, snapshot, variant, timeoutMs, notes));
      }
      for (const v of snapshotSampleValues({ snapshot, freshLaunchToFirstInferenceMs: ms, restores, notes })) ctx.emit(v);
    } finally {
      await ctx.platform.removeSnapshot?.(snapshot).catch((err: unknown) => ctx.warn(`${ctx.platform.name}: removing the snapshot failed: ${messageOf(err)}`));
    }
  },
};
