import type { PlatformKind } from '../scenario/schema.js';

/**
 * What a platform's memoryReading() hands back: the host memory attributable
 * to one instance, and the workload server's own memory as seen inside the
 * instance. All figures are bytes. The definition of each part is in the doc
 * comment of src/measure/memory.ts; `method` says exactly what was read.
 */

/** One process's figures from /proc/<pid>/smaps_rollup (bytes). */
export interface ProcessMemory {
  pid: number;
  /** What the process is (argv joined by spaces, shortened). */
  command: string;
  rssBytes: number;
  pssBytes: number;
  /** Pss_Anon / Pss_File / Pss_Shmem (Linux ≥ 5.6); null where the kernel does not report them. */
  pssAnonBytes: number | null;
  pssFileBytes: number | null;
  pssShmemBytes: number | null;
  swapPssBytes: number;
  /** AnonHugePages: anonymous memory backed by transparent huge pages (THP), counted whole. */
  anonHugePagesBytes: number;
}

export interface HostMemoryParts {
  /**
   * Host memory attributable to the instance: the sum of `counted`.
   * Container: cgroup anon + cgroup kernel + cgroup shmem + Σ Pss_File of the
   * container's processes + containerd-shim PSS (+ docker-proxy PSS).
   * VM: PSS of the QEMU process.
   */
  attributableBytes: number;
  /** The parts that make up attributableBytes, by name. */
  counted: Record<string, number>;
  /**
   * Reclaimable page cache charged to the instance, reported apart and not in
   * attributableBytes (container: cgroup file/cache minus shmem). null where it
   * cannot be attributed (VM: host page cache of the disk image is not measured).
   */
  pageCacheBytes: number | null;
  /** Figures recorded for context, not summed (e.g. cgroup usage, QEMU RSS, guest MemTotal). */
  info: Record<string, number>;
  /** The host processes read (containerd-shim, docker-proxy, qemu). */
  processes: ProcessMemory[];
}

export interface WorkloadMemory extends ProcessMemory {
  /** 'host': /proc of the host (container); 'guest-ssh': /proc inside a VM guest, over SSH; 'docker-exec': /proc inside a sandbox (gVisor). */
  seenFrom: 'host' | 'guest-ssh' | 'docker-exec';
}

export interface MemoryReading {
  kind: PlatformKind;
  /** Exactly what was read, with paths and pids, e.g. "cgroup v1 /sys/fs/cgroup/memory/docker/<id>: memory.stat…". */
  method: string;
  /** Wall-clock epoch ms when the reading was taken. */
  takenAtEpochMs: number;
  host: HostMemoryParts;
  workload: WorkloadMemory;
  /** Anything unusual met while reading (no shim found, field missing, …). */
  notes: string[];
}
