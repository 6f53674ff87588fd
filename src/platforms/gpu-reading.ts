import type { ComputeApp, NvidiaGpu } from './host/nvidia-smi.js';

/**
 * One reading of an instance's GPU use, as a platform takes it
 * (Platform.gpuReading): the GPU memory its processes hold and the
 * utilisation of the GPU(s) it runs on. Utilisation is nvidia-smi's
 * utilization.gpu — the share of the last sample period in which a kernel
 * ran on that GPU — so it is per GPU, not per process: on a GPU shared by
 * several instances it is theirs together (`shared` says so).
 */
export interface GpuReading {
  takenAtEpochMs: number;
  /** GPU memory held by the instance, bytes; null when it cannot be told. */
  memoryUsedBytes: number | null;
  /** Mean utilization.gpu of the GPUs the instance uses, %; null when none is in use or it is not reported. */
  utilizationPct: number | null;
  gpus: Array<{ uuid: string; name: string; memoryUsedMiB: number | null; memoryTotalMiB: number | null; utilizationPct: number | null }>;
  /** Some of those GPUs also run processes of something else. */
  shared: boolean;
  method: string;
}

const MIB = 2 ** 20;

function mean(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/**
 * Host view (containers): the compute processes whose pid is one of the
 * instance's host pids, their memory summed, and the utilisation of the GPUs
 * they are on. A process nvidia-smi lists without a memory figure (some
 * drivers in containers) makes the memory unknown rather than low.
 */
export function readingFromProcesses(pids: readonly number[], apps: readonly ComputeApp[] | null, gpus: readonly NvidiaGpu[], method: string): GpuReading {
  const mine = new Set(pids);
  const own = (apps ?? []).filter((a) => mine.has(a.pid));
  const uuids = new Set(own.map((a) => a.gpuUuid));
  const used = gpus.filter((g) => uuids.has(g.uuid));
  const memory = apps === null || own.some((a) => a.usedMemoryMiB === null) ? null : own.reduce((s, a) => s + (a.usedMemoryMiB ?? 0), 0) * MIB;
  return {
    takenAtEpochMs: Date.now(),
    memoryUsedBytes: memory,
    utilizationPct: mean(used.map((g) => g.utilizationPct)),
    gpus: used.map((g) => ({ uuid: g.uuid, name: g.name, memoryUsedMiB: g.memoryUsedMiB, memoryTotalMiB: g.memoryTotalMiB, utilizationPct: g.utilizationPct })),
    shared: (apps ?? []).some((a) => uuids.has(a.gpuUuid) && !mine.has(a.pid)),
    method,
  };
}

/** Guest view (a VM with its GPUs passed through): every GPU it sees is its own, whole. */
export function readingFromOwnGpus(gpus: readonly NvidiaGpu[], method: string): GpuReading {
  const known = gpus.every((g) => g.memoryUsedMiB !== null);
  return {
    takenAtEpochMs: Date.now(),
    memoryUsedBytes: gpus.length && known ? gpus.reduce((s, g) => s + (g.memoryUsedMiB ?? 0), 0) * MIB : null,
    utilizationPct: mean(gpus.map((g) => g.utilizationPct)),
    gpus: gpus.map((g) => ({ uuid: g.uuid, name: g.name, memoryUsedMiB: g.memoryUsedMiB, memoryTotalMiB: g.memoryTotalMiB, utilizationPct: g.utilizationPct })),
    shared: false,
    method,
  };
}
