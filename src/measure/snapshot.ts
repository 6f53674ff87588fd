import type { Sample } from '../results/sample.js';
import type { Instance } from '../platforms/platform.js';
import { measureColdStart } from './startup.js';

/**
 * Snapshot/restore start: the "snapshot/rollback speed" row of the comparison.
 *
 * A platform's optional snapshotRestore() launches a fresh instance, waits until
 * it answers an inference (model loaded), takes a snapshot, stops it, then
 * restores a NEW instance from that snapshot and measures
 * restore call → first successful inference (measureColdStart on the restored
 * instance, whose lifecycle.launch is the restore call). Everything it made is
 * removed before it returns (or throws).
 */

export interface SnapshotRestoreOptions {
  /** Per instance: launch/restore call → first inference must happen within this. */
  readyTimeoutMs: number;
  signal?: AbortSignal;
  /** The raw float32 request body; default: fixedInput(3×224×224, seed 1) (ResNet-style models). */
  input?: Buffer;
}

/** One way of snapshotting/restoring that was measured (a platform may try several). */
export interface SnapshotVariant {
  /** Exactly what was done, e.g. "qemu migrate exec:cat > file; restore -incoming exec:cat file". */
  method: string;
  /** Time to take the snapshot (ms). */
  snapshotMs: number;
  /** Size of the snapshot on disk (bytes allocated). */
  snapshotBytes: number;
  /** Restore call → first HTTP 200 inference (ms). */
  restoreToFirstInferenceMs: number;
  /** Named sub-steps of the restore, ms after the restore call (e.g. incoming_done, cont, first_inference). */
  restorePhasesMs: Record<string, number>;
  restoredMemoryBytes?: number;
}

export interface SnapshotRestoreResult extends SnapshotVariant {
  platformName: string;
  /** Fresh launch → first inference of the instance that was snapshotted (same measurement as cold start). */
  baselineLaunchToFirstInferenceMs: number;
  /** Every variant measured, the reported one (fastest restore) included. */
  variants: SnapshotVariant[];
  /** Facts: engine support for memory checkpoints, sizes of the parts, caveats. */
  facts: Record<string, string | number | boolean>;
  notes: string[];
}

export const DEFAULT_POLL = { intervalMs: 10, requestTimeoutMs: 1000 } as const;

/** measureColdStart against an instance, with the snapshot module's polling defaults. */
export async function firstInferenceMs(
  instance: Instance,
  modelName: string,
  input: Buffer,
  opts: Pick<SnapshotRestoreOptions, 'readyTimeoutMs' | 'signal'>,
  check?: () => void,
): Promise<number> {
  const r = await measureColdStart(instance, modelName, input, {
    ...DEFAULT_POLL,
    timeoutMs: opts.readyTimeoutMs,
    signal: opts.signal,
    check,
  });
  return r.ms;
}

/** The variant with the fastest restore → first inference (the one a result reports). */
export function fastestRestore<V extends SnapshotVariant>(variants: V[]): V {
  if (!variants.length) throw new Error('no snapshot variant was measured');
  return variants.reduce((a, b) => (b.restoreToFirstInferenceMs < a.restoreToFirstInferenceMs ? b : a));
}

/** Assemble a result from the measured variants (the fastest restore is the headline). */
export function snapshotResult(
  platformName: string,
  baselineMs: number,
  variants: SnapshotVariant[],
  facts: Record<string, string | number | boolean>,
  notes: string[],
): SnapshotRestoreResult {
  const best = fastestRestore(variants);
  return { ...best, platformName, baselineLaunchToFirstInferenceMs: baselineMs, variants, facts, notes };
}

/**
 * Samples of one platform's snapshot/restore: restore → first inference (the
 * fastest variant), the fresh launch → first inference of the instance that
 * was snapshotted, time to take the snapshot, its size, and the restored
 * instance's host memory when the platform can read it.
 */
export function snapshotSampleValues(r: SnapshotRestoreResult): Array<Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>> {
  const metadata: Sample['metadata'] = {
    method: r.method,
    notes: r.notes.join(' | ') || null,
    variants: r.variants.map((v) => `${v.method}: ${v.restoreToFirstInferenceMs.toFixed(0)} ms`).join(' | '),
    ...Object.fromEntries(Object.entries(r.restorePhasesMs).map(([k, v]) => [`restore_${k}_ms`, Math.round(v)])),
    ...r.facts,
  };
  const out: Array<Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>> = [
    { metric: 'snapshot_restore', value: r.restoreToFirstInferenceMs, unit: 'ms', metadata },
    { metric: 'snapshot_fresh', value: r.baselineLaunchToFirstInferenceMs, unit: 'ms', metadata },
    { metric: 'snapshot_take', value: r.snapshotMs, unit: 'ms', metadata },
    { metric: 'snapshot_size', value: r.snapshotBytes / 2 ** 20, unit: 'MiB', metadata },
  ];
  if (r.restoredMemoryBytes !== undefined) {
    out.push({ metric: 'snapshot_restored_memory', value: r.restoredMemoryBytes / 2 ** 20, unit: 'MiB', metadata });
  }
  return out;
}
