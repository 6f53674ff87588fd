import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError, messageOf } from '../errors.js';
import { localFs, type HostFs } from '../platforms/host/host-fs.js';
import { parseThpMode } from '../platforms/host/proc-memory.js';
import type { HostMemoryParts, MemoryReading, WorkloadMemory } from '../platforms/memory-reading.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import { enableKsm } from './ksm.js';
import { onceIf, type Measurement, type SampleValue, type StepContext } from './measurement.js';

/**
 * Memory: host memory attributable to one instance vs the workload's own memory.
 *
 * Workload (the same process on every substrate): the Node server process
 * (`node /app/server.mjs`, model and ONNX Runtime included) as seen inside the
 * instance, from /proc/<pid>/smaps_rollup: RSS and PSS.
 *  - container: the container process running the server script (normally
 *    inspect's State.Pid), read from the host's /proc;
 *  - VM: the guest's /proc/<pid>/smaps_rollup, read over SSH, pid found by
 *    the guest's /proc/*\/cmdline. PSS here counts guest-physical pages.
 *
 * Host-attributable (what the host spends on the instance):
 *  - container = memory cgroup anon (v1 total_rss; v2 anon)
 *              + cgroup kernel memory (v1 memory.kmem.usage_in_bytes; v2 kernel + sock)
 *              + cgroup shmem (tmpfs/shm: not reclaimable without swap)
 *              + Σ Pss_File of the container's processes (cgroup.procs)
 *              + PSS of its containerd-shim (parent of the main pid)
 *              + PSS of its docker-proxy (only when a port is published on a bridge).
 *    The cgroup directory comes from /proc/<pid>/cgroup and the mount table
 *    (v1: <memory mount>/docker/<id>; v2 systemd: …/system.slice/docker-<id>.scope).
 *    Mapped file pages (node, libonnxruntime…) are counted by their PSS, not by
 *    the cgroup's cache: page cache is charged to whichever cgroup first read it,
 *    so an image whose files were already cached shows almost no cache in the
 *    container's cgroup although the server maps ≈ 65 MB of them.
 *    Page cache charged to the cgroup (cache/file − shmem) is reported apart as
 *    pageCache and is NOT overhead: the host can reclaim it.
 *  - VM = PSS of the QEMU process (/proc/<pid>/smaps_rollup): guest RAM it has
 *    touched (guest kernel, guest page cache, every guest process) + QEMU itself
 *    (TCG translation cache, device models, its libraries). Guest page cache
 *    is in it: the host cannot reclaim it (no balloon). The host page cache of
 *    the disk image is not attributed (pageCache = null). With THP in 'madvise'
 *    mode QEMU's guest RAM is huge-page backed (QEMU madvises it), so each 2 MiB
 *    region the guest touches costs 2 MiB: a 512 MiB TCG guest measured here had
 *    476 of its 545 MiB RSS in AnonHugePages (recorded as qemuAnonHugePages).
 *
 * overhead = host-attributable − workload PSS, in MiB and as % of the workload PSS.
 * Host KSM (/sys/kernel/mm/ksm/run, pages_sharing, pages_shared) and the THP
 * modes are recorded with every measurement: both change PSS.
 */

const MiB = 2 ** 20;
const toMiB = (bytes: number) => bytes / MiB;

export interface MemoryOverhead {
  /** Host-attributable memory (the sum of parts), MiB. */
  hostMiB: number;
  /** The workload server's PSS inside the instance, MiB. */
  workloadPssMiB: number;
  workloadRssMiB: number;
  /** hostMiB − workloadPssMiB. */
  overheadMiB: number;
  /** overheadMiB / workloadPssMiB × 100. */
  overheadPct: number;
  /** Reclaimable page cache charged to the instance (not in hostMiB); null where not attributable. */
  pageCacheMiB: number | null;
  /** The counted parts of hostMiB, MiB. */
  parts: Record<string, number>;
}

/** Compose a reading's host side and workload side into the overhead figures. */
export function memoryOverhead(
  host: Pick<HostMemoryParts, 'counted' | 'pageCacheBytes'>,
  inside: Pick<WorkloadMemory, 'pssBytes' | 'rssBytes'>,
): MemoryOverhead {
  const parts: Record<string, number> = {};
  let hostBytes = 0;
  for (const [k, v] of Object.entries(host.counted)) {
    if (!Number.isFinite(v) || v < 0) throw new BenchError('internal', `memory part ${k} is ${v}`);
    parts[k] = toMiB(v);
    hostBytes += v;
  }
  if (!(inside.pssBytes > 0)) throw new BenchError('internal', `workload PSS is ${inside.pssBytes}`);
  const overheadBytes = hostBytes - inside.pssBytes;
  return {
    hostMiB: toMiB(hostBytes),
    workloadPssMiB: toMiB(inside.pssBytes),
    workloadRssMiB: toMiB(inside.rssBytes),
    overheadMiB: toMiB(overheadBytes),
    overheadPct: (overheadBytes / inside.pssBytes) * 100,
    pageCacheMiB: host.pageCacheBytes === null ? null : toMiB(host.pageCacheBytes),
    parts,
  };
}

export interface KsmThpState {
  /** /sys/kernel/mm/ksm/run: 0 off, 1 running, 2 unmerging; null if KSM is not built in. */
  ksmRun: number | null;
  /** Pages deduplicated (pages_sharing) and the shared pages they map to (pages_shared). */
  ksmPagesSharing: number | null;
  ksmPagesShared: number | null;
  /** /sys/kernel/mm/transparent_hugepage/{enabled,defrag}: the selected mode. */
  thpEnabled: string | null;
  thpDefrag: string | null;
}

async function readOptional(path: string, fs: HostFs): Promise<string | null> {
  try {
    return await fs.readFile(path);
  } catch {
    return null;
  }
}

const num = (t: string | null): number | null => {
  if (t === null) return null;
  const v = Number(t.trim());
  return Number.isFinite(v) ? v : null;
};

/** Host KSM and THP state (of the instance's host: `fs`). `sysRoot` is for tests. */
export async function readKsmThp(sysRoot = '/sys', fs: HostFs = localFs): Promise<KsmThpState> {
  const ksm = `${sysRoot}/kernel/mm/ksm`;
  const thp = `${sysRoot}/kernel/mm/transparent_hugepage`;
  const [run, sharing, shared, enabled, defrag] = await Promise.all([
    readOptional(`${ksm}/run`, fs),
    readOptional(`${ksm}/pages_sharing`, fs),
    readOptional(`${ksm}/pages_shared`, fs),
    readOptional(`${thp}/enabled`, fs),
    readOptional(`${thp}/defrag`, fs),
  ]);
  return {
    ksmRun: num(run),
    ksmPagesSharing: num(sharing),
    ksmPagesShared: num(shared),
    thpEnabled: enabled === null ? null : parseThpMode(enabled),
    thpDefrag: defrag === null ? null : parseThpMode(defrag),
  };
}

export interface MeasureMemoryOptions {
  /** How long after readiness to wait before reading (the server settles: JIT, first GC, ORT arenas). */
  settleMs: number;
  signal?: AbortSignal;
  /** Count settleMs from this performance.now() instead of the instance's readiness. */
  from?: number;
}

export interface MemoryMeasurement {
  reading: MemoryReading;
  overhead: MemoryOverhead;
  host: KsmThpState;
  /** ms from readiness (lifecycle.ready, else the call) to the reading. */
  sinceReadyMs: number;
}

/**
 * Wait until `settleMs` after the instance's readiness (lifecycle.ready, set by
 * measureStartup; when absent, settleMs from now), then take the platform's
 * memory reading and compose it. Throws BenchError('unsupported') for a
 * platform without memoryReading; the signal's reason when aborted.
 */
export async function measureMemory<I extends Instance>(
  platform: Platform<I>,
  instance: I,
  o: MeasureMemoryOptions,
): Promise<MemoryMeasurement> {
  if (!platform.memoryReading) {
    throw new BenchError('unsupported', `platform ${platform.name} (${platform.kind}) cannot measure memory`);
  }
  if (!(o.settleMs >= 0)) throw new BenchError('input', `settleMs must be ≥ 0 (got ${o.settleMs})`);
  const ready = o.from ?? instance.lifecycle.ready ?? instance.lifecycle.firstInference ?? performance.now();
  const wait = Math.max(0, ready + o.settleMs - performance.now());
  if (o.signal?.aborted) throw o.signal.reason ?? new BenchError('interrupted', 'aborted');
  if (wait > 0) {
    try {
      await sleep(wait, undefined, { signal: o.signal });
    } catch (err) {
      throw o.signal?.aborted ? (o.signal.reason ?? err) : err;
    }
  }
  const reading = await platform.memoryReading(instance);
  const host = await readKsmThp('/sys', platform.hostFs);
  return {
    reading,
    overhead: memoryOverhead(reading.host, reading.workload),
    host,
    sinceReadyMs: performance.now() - ready,
  };
}

export type MemorySampleValue = Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>;

/**
 * The measurement as sample values (the runner adds platform, kind, rep, warmup, timestamp):
 * memory_host, memory_workload_pss, memory_workload_rss, memory_overhead (MiB),
 * memory_overhead_pct (overhead as % of workload PSS), memory_page_cache (MiB, when attributable).
 */
export function memorySampleValues(m: MemoryMeasurement): MemorySampleValue[] {
  const o = m.overhead;
  const metadata: Sample['metadata'] = {
    method: m.reading.method,
    notes: m.reading.notes.join(' | ') || null,
    parts: Object.entries(o.parts)
      .map(([k, v]) => `${k}=${v.toFixed(1)}`)
      .join(' '),
    sinceReadyMs: Math.round(m.sinceReadyMs),
    workloadPid: m.reading.workload.pid,
    workloadSeenFrom: m.reading.workload.seenFrom,
    ksmRun: m.host.ksmRun,
    ksmPagesSharing: m.host.ksmPagesSharing,
    thpEnabled: m.host.thpEnabled,
  };
  const out: MemorySampleValue[] = [
    { metric: 'memory_host', value: o.hostMiB, unit: 'MiB', metadata },
    { metric: 'memory_workload_pss', value: o.workloadPssMiB, unit: 'MiB', metadata },
    { metric: 'memory_workload_rss', value: o.workloadRssMiB, unit: 'MiB', metadata },
    { metric: 'memory_overhead', value: o.overheadMiB, unit: 'MiB', metadata },
    { metric: 'memory_overhead_pct', value: o.overheadPct, unit: '%', metadata },
  ];
  if (o.pageCacheMiB !== null) out.push({ metric: 'memory_page_cache', value: o.pageCacheMiB, unit: 'MiB', metadata });
  return out;
}

/** Memory readings are taken at idle, with KSM on, and under load (during the first throughput level). */
export type MemoryPhase = 'idle' | 'ksm' | 'load';

/** Emits one reading's samples; a phase other than idle becomes the samples' `phase` parameter. */
export function emitMemory(ctx: StepContext, m: MemoryMeasurement, phase: MemoryPhase, from: Instance): void {
  for (const v of memorySampleValues(m)) {
    const value: SampleValue = { ...v, metadata: { ...v.metadata, phase } };
    if (phase !== 'idle') value.params = { phase };
    ctx.emit(value, from);
  }
}

/** The idle reading again with KSM on: two full scans (≤ 60 s), then read; KSM is always put back. */
async function readWithKsm(ctx: StepContext, instance: Instance): Promise<void> {
  let ksm;
  if (ctx.platform.hostName !== 'local') {
    ctx.warn(`${ctx.platform.name}: memory.ksm: not supported on a remote host (${ctx.platform.hostName}): switching KSM there needs root on it; only the reading without KSM was taken`);
    return;
  }
  try {
    ksm = await enableKsm();
  } catch (err) {
    ctx.warn(`${ctx.platform.name}: memory.ksm: ${messageOf(err)}; only the reading without KSM was taken`);
    return;
  }
  try {
    const scans = await ksm.waitForScans(2, 60_000, ctx.signal);
    if (scans < 2) ctx.warn(`${ctx.platform.name}: memory.ksm: KSM finished ${scans} full scan(s) in 60 s; the KSM reading may understate merging`);
    emitMemory(ctx, await measureMemory(ctx.platform, instance, { settleMs: 0, signal: ctx.signal }), 'ksm', instance);
  } finally {
    await ksm.restore();
  }
}

/** memory: one ready instance after the settle period (and again with KSM when asked). */
export const memoryMeasurement: Measurement = {
  name: 'memory',
  uses: 'ready',
  rounds: (s) => onceIf(s.measurements.memory),
  unsupported: (platform) => (platform.memoryReading ? null : `${platform.kind} cannot read memory`),
  async run(ctx, s) {
    const cfg = s.measurements.memory!;
    const instance = await ctx.readyInstance();
    emitMemory(ctx, await measureMemory(ctx.platform, instance, { settleMs: cfg.settle, signal: ctx.signal }), 'idle', instance);
    if (cfg.ksm) await readWithKsm(ctx, instance);
    if (cfg.under_load && !s.measurements.throughput) {
      ctx.warn('memory.under_load needs a throughput section to make load; only the idle reading was taken.');
    }
  },
};