/**
 * Snapshot primitives (Platform.snapshot / restore / removeSnapshot): what a
 * substrate hands back when it snapshots a running instance. How long a
 * restore takes to answer is measured by src/measure/snapshot.ts, never here.
 *
 * A snapshot may come in several variants (QEMU: the raw migration stream
 * and a gzip of it); each can be restored and each restore is measured.
 */

export interface SnapshotVariant {
  /** Short name, e.g. "raw", "gzip", "commit". */
  name: string;
  /** Exactly what was done to take it, e.g. "QMP stop; migrate exec:cat > file; …". */
  method: string;
  /** Time to take this variant (ms). */
  takeMs: number;
  /** Size on disk (bytes allocated), everything a restore needs beyond the shared base image. */
  bytes: number;
  /** What the platform needs to restore it (paths, image ids); opaque to callers. */
  handle: Record<string, string | number>;
}

export interface Snapshot {
  platform: string;
  runId: string;
  /** The instance that was snapshotted. */
  instanceId: string;
  /** Whether process memory is in it (a VM migration: yes; `docker commit`: filesystem only). */
  processMemory: boolean;
  variants: SnapshotVariant[];
  /** Engine facts: support for memory checkpoints, sizes of the parts, … */
  facts: Record<string, string | number | boolean>;
  notes: string[];
}
