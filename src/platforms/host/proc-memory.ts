import { BenchError } from '../../errors.js';
import { localFs, type HostFs } from './host-fs.js';
import { posix } from 'node:path';
import type { ProcessMemory } from '../memory-reading.js';

/**
 * Pure parsers for the kernel's memory files (smaps_rollup, cgroup v1/v2
 * memory.stat, /proc/<pid>/cgroup, mountinfo, THP mode) and the few small
 * /proc readers built on them. Shared by the Docker and QEMU memory readers
 * (memory-docker.ts, memory-qemu.ts) and re-exported by src/measure/memory.ts.
 */

// ---------------------------------------------------------------------------
// smaps_rollup

export interface SmapsRollup {
  rssKiB: number;
  pssKiB: number;
  /** Pss_Anon / Pss_File / Pss_Shmem: Linux ≥ 5.6; null when absent. */
  pssAnonKiB: number | null;
  pssFileKiB: number | null;
  pssShmemKiB: number | null;
  /** Anonymous (all anon pages mapped, not proportional). */
  anonymousKiB: number | null;
  swapPssKiB: number;
  anonHugePagesKiB: number;
  /** Every "Name: N kB" line, by name. */
  fields: Record<string, number>;
}

/**
 * Parse /proc/<pid>/smaps_rollup. Throws when Rss or Pss is missing (not a
 * smaps_rollup text, or the process had no mappings: a kernel thread or zombie).
 */
export function parseSmapsRollup(text: string): SmapsRollup {
  // Summed, so a full /proc/<pid>/smaps (one block per mapping: gVisor has no smaps_rollup) reads the same.
  const fields: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+):\s+([0-9]+) kB\s*$/.exec(line);
    if (m) fields[m[1]!] = (fields[m[1]!] ?? 0) + Number(m[2]);
  }
  const rss = fields.Rss;
  const pss = fields.Pss;
  if (rss === undefined || pss === undefined) {
    throw new BenchError('infrastructure', `not a smaps_rollup text (no Rss/Pss line): ${JSON.stringify(text.slice(0, 120))}`);
  }
  return {
    rssKiB: rss,
    pssKiB: pss,
    pssAnonKiB: fields.Pss_Anon ?? null,
    pssFileKiB: fields.Pss_File ?? null,
    pssShmemKiB: fields.Pss_Shmem ?? null,
    anonymousKiB: fields.Anonymous ?? null,
    swapPssKiB: fields.SwapPss ?? 0,
    anonHugePagesKiB: fields.AnonHugePages ?? 0,
    fields,
  };
}

const KiB = 1024;
const kib = (v: number | null): number | null => (v === null ? null : v * KiB);

/** smaps_rollup figures of one process as ProcessMemory (bytes). */
export function processMemoryFrom(pid: number, command: string, r: SmapsRollup): ProcessMemory {
  return {
    pid,
    command,
    rssBytes: r.rssKiB * KiB,
    pssBytes: r.pssKiB * KiB,
    pssAnonBytes: kib(r.pssAnonKiB),
    pssFileBytes: kib(r.pssFileKiB),
    pssShmemBytes: kib(r.pssShmemKiB),
    swapPssBytes: r.swapPssKiB * KiB,
    anonHugePagesBytes: r.anonHugePagesKiB * KiB,
  };
}

// ---------------------------------------------------------------------------
// cgroup memory.stat

/** Parse a "key value" file (cgroup memory.stat, v1 or v2) into numbers; non-numeric lines are skipped. */
export function parseMemoryStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_]+) ([0-9]+)\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** One memory cgroup's figures, bytes, normalized over v1 and v2. */
export interface CgroupMemory {
  version: 1 | 2;
  /** v1 memory.usage_in_bytes / v2 memory.current. */
  usageBytes: number;
  /** Anonymous memory: v1 total_rss (anon + swap cache, THP included) / v2 anon. */
  anonBytes: number;
  /**
   * Kernel memory charged to the cgroup: v1 memory.kmem.usage_in_bytes (else
   * usage − total_rss − total_cache); v2 `kernel` (else kernel_stack + pagetables
   * + sec_pagetables + percpu + vmalloc + slab), plus v2 `sock`.
   * null on v1 without kmem accounting and nothing left over.
   */
  kernelBytes: number | null;
  /** tmpfs/shm pages (not reclaimable without swap): v1 total_shmem / v2 shmem. */
  shmemBytes: number;
  /** Page cache: v1 total_cache / v2 file, both minus shmem (which they include). */
  pageCacheBytes: number;
  /** Page cache pages mapped by the cgroup's processes: v1 total_mapped_file / v2 file_mapped. */
  mappedFileBytes: number;
  /** Which fields the figures came from, for the reading's method text. */
  source: string;
}

const need = (stat: Record<string, number>, key: string, what: string): number => {
  const v = stat[key];
  if (v === undefined) throw new BenchError('infrastructure', `${what}: no '${key}' in memory.stat`);
  return v;
};

/**
 * cgroup v1 memory controller. `stat` is memory.stat (parsed); the hierarchical
 * total_* fields are used (they include child cgroups; a container has none).
 */
export function cgroupV1Memory(stat: Record<string, number>, usageBytes: number, kmemUsageBytes: number | null): CgroupMemory {
  const pick = (k: string) => stat[`total_${k}`] ?? need(stat, k, 'cgroup v1');
  const rss = pick('rss');
  const cache = pick('cache');
  const shmem = stat.total_shmem ?? stat.shmem ?? 0;
  const mapped = stat.total_mapped_file ?? stat.mapped_file ?? 0;
  let kernel: number | null = kmemUsageBytes;
  let kernelSource = 'memory.kmem.usage_in_bytes';
  if (kernel === null) {
    const left = usageBytes - rss - cache;
    kernel = left > 0 ? left : null;
    kernelSource = 'usage_in_bytes − total_rss − total_cache';
  }
  return {
    version: 1,
    usageBytes,
    anonBytes: rss,
    kernelBytes: kernel,
    shmemBytes: shmem,
    pageCacheBytes: Math.max(0, cache - shmem),
    mappedFileBytes: mapped,
    source: `anon=total_rss, kernel=${kernelSource}, shmem=total_shmem, pageCache=total_cache−total_shmem`,
  };
}

const V2_KERNEL_PARTS = ['kernel_stack', 'pagetables', 'sec_pagetables', 'percpu', 'vmalloc', 'slab'] as const;

/** cgroup v2 memory controller: memory.stat (parsed) and memory.current. */
export function cgroupV2Memory(stat: Record<string, number>, currentBytes: number): CgroupMemory {
  const anon = need(stat, 'anon', 'cgroup v2');
  const file = need(stat, 'file', 'cgroup v2');
  const shmem = stat.shmem ?? 0;
  const sock = stat.sock ?? 0;
  let kernel: number;
  let kernelSource: string;
  if (stat.kernel !== undefined) {
    kernel = stat.kernel + sock;
    kernelSource = 'kernel+sock';
  } else {
    kernel = V2_KERNEL_PARTS.reduce((s, k) => s + (stat[k] ?? 0), 0) + sock;
    kernelSource = `${V2_KERNEL_PARTS.filter((k) => stat[k] !== undefined).join('+')}+sock`;
  }
  return {
    version: 2,
    usageBytes: currentBytes,
    anonBytes: anon,
    kernelBytes: kernel,
    shmemBytes: shmem,
    pageCacheBytes: Math.max(0, file - shmem),
    mappedFileBytes: stat.file_mapped ?? 0,
    source: `anon=anon, kernel=${kernelSource}, shmem=shmem, pageCache=file−shmem`,
  };
}

// ---------------------------------------------------------------------------
// Which cgroup directory: /proc/<pid>/cgroup + /proc/self/mountinfo

export interface ProcCgroupEntry {
  hierarchyId: number;
  /** v1: the controllers of that hierarchy ('memory', 'name=systemd', …); v2 (id 0): []. */
  controllers: string[];
  path: string;
}

/** Parse /proc/<pid>/cgroup ("id:controllers:path" lines). */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const id = Number(line.slice(0, a));
    const ctl = line.slice(a + 1, b);
    out.push({ hierarchyId: id, controllers: ctl ? ctl.split(',') : [], path: line.slice(b + 1) });
  }
  return out;
}

export interface CgroupMount {
  mountPoint: string;
  /** The cgroup path that is the mount's root ('/' normally). */
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup and cgroup2 mounts listed in a /proc/<pid>/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const post = line.slice(dash + 3).split(' ');
    const fstype = post[0];
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || pre.length < 5) continue;
    out.push({
      mountPoint: unescapeMount(pre[4]!),
      root: unescapeMount(pre[3]!),
      fstype,
      superOptions: (post[2] ?? '').split(','),
    });
  }
  return out;
}

export interface MemoryCgroupLocation {
  version: 1 | 2;
  /** Absolute directory of the cgroup on this host. */
  dir: string;
  /** The path as /proc/<pid>/cgroup gave it. */
  cgroupPath: string;
}

function under(mount: CgroupMount, path: string): string | null {
  if (mount.root === '/') return posix.join(mount.mountPoint, path);
  if (path === mount.root) return mount.mountPoint;
  if (path.startsWith(`${mount.root}/`)) return posix.join(mount.mountPoint, path.slice(mount.root.length));
  return null;
}

/**
 * The memory cgroup directory of a process, from its /proc/<pid>/cgroup and
 * the reader's mountinfo. A v1 hierarchy carrying the memory controller wins
 * (hybrid hosts mount cgroup2 too, without the memory controller); otherwise
 * the unified (v2) entry "0::<path>" under the cgroup2 mount. null if neither
 * resolves (e.g. the path lies outside every mount's root).
 */
export function resolveMemoryCgroup(procCgroup: string, mountinfo: string): MemoryCgroupLocation | null {
  const entries = parseProcCgroup(procCgroup);
  const mounts = parseCgroupMounts(mountinfo);
  const v1 = entries.find((e) => e.hierarchyId !== 0 && e.controllers.includes('memory'));
  if (v1) {
    for (const m of mounts) {
      if (m.fstype !== 'cgroup' || !m.superOptions.includes('memory')) continue;
      const dir = under(m, v1.path);
      if (dir) return { version: 1, dir, cgroupPath: v1.path };
    }
  }
  const v2 = entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0);
  if (v2) {
    for (const m of mounts) {
      if (m.fstype !== 'cgroup2') continue;
      const dir = under(m, v2.path);
      if (dir) return { version: 2, dir, cgroupPath: v2.path };
    }
  }
  return null;
}

/** Parse /proc/meminfo ("Name:  N kB" lines) into bytes by name; lines without a unit are plain counts. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+([0-9]+)( kB)?\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

// ---------------------------------------------------------------------------
// THP / KSM

/** The selected mode of a THP sysfs file ("always [madvise] never" → 'madvise'); null if none is marked. */
export function parseThpMode(text: string): string | null {
  return /\[([a-z+_-]+)\]/.exec(text)?.[1] ?? null;
}

// ---------------------------------------------------------------------------
// /proc readers (host)

/** argv of a process; null when it is gone or unreadable. */
export async function readCmdline(pid: number, procRoot = '/proc', fs: HostFs = localFs): Promise<string[] | null> {
  try {
    const raw = await fs.readFile(`${procRoot}/${pid}/cmdline`);
    const argv = raw.split('\0');
    if (argv.length && argv[argv.length - 1] === '') argv.pop();
    return argv;
  } catch {
    return null;
  }
}

/** Parent pid from /proc/<pid>/status; null when the process is gone. */
export async function readPpid(pid: number, procRoot = '/proc', fs: HostFs = localFs): Promise<number | null> {
  try {
    const m = /^PPid:\s+([0-9]+)/m.exec(await fs.readFile(`${procRoot}/${pid}/status`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Every numeric entry of /proc. */
export async function listPids(procRoot = '/proc', fs: HostFs = localFs): Promise<number[]> {
  return (await fs.readdir(procRoot)).filter((e) => /^[0-9]+$/.test(e)).map(Number);
}

/** argv shortened to one line for the record. */
export function describeArgv(argv: string[] | null, max = 160): string {
  if (!argv || !argv.length) return '?';
  const s = argv.join(' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** smaps_rollup of a host process as ProcessMemory; null when it is gone (or has no mappings). */
export async function readProcessMemory(pid: number, procRoot = '/proc', fs: HostFs = localFs): Promise<ProcessMemory | null> {
  let text: string;
  try {
    text = await fs.readFile(`${procRoot}/${pid}/smaps_rollup`);
  } catch {
    return null;
  }
  let rollup: SmapsRollup;
  try {
    rollup = parseSmapsRollup(text);
  } catch {
    return null;
  }
  return processMemoryFrom(pid, describeArgv(await readCmdline(pid, procRoot, fs)), rollup);
}
