import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { measureMemory, memoryOverhead, memorySampleValues, readKsmThp } from '../../src/measure/memory.js';
import {
  cgroupV1Memory,
  cgroupV2Memory,
  parseCgroupMounts,
  parseMeminfo,
  parseMemoryStat,
  parseProcCgroup,
  parseSmapsRollup,
  parseThpMode,
  resolveMemoryCgroup,
} from '../../src/platforms/host/proc-memory.js';
import type { MemoryReading } from '../../src/platforms/memory-reading.js';
import { isDockerProxyFor, publishedHostPorts } from '../../src/platforms/docker/memory.js';
import { findServerPid, parseGuestProcessList } from '../../src/platforms/linux-guest/guest-memory.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts } from '../../src/platforms/platform.js';

// ---------------------------------------------------------------------------
// Texts captured on this machine (Debian 12 host, kernel 6.18, Docker 20.10 cgroupfs/v1;
// guest: Debian cloud kernel 6.1 under TCG), ResNet-18 workload.

/** /proc/<State.Pid>/smaps_rollup of the container's node server, read from the host. */
const CONTAINER_NODE_ROLLUP = `00400000-7ffe3e124000 ---p 00000000 00:00 0                              [rollup]
Rss:              243972 kB
Pss:              243968 kB
Pss_Dirty:        178312 kB
Pss_Anon:         178280 kB
Pss_File:          65688 kB
Pss_Shmem:             0 kB
Shared_Clean:          4 kB
Shared_Dirty:          0 kB
Private_Clean:     65656 kB
Private_Dirty:    178312 kB
Referenced:       243972 kB
Anonymous:        178280 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

/** The guest's node server (/proc/128/smaps_rollup inside the VM, over SSH). Guest kernel 6.1: no KSM line. */
const GUEST_NODE_ROLLUP = `00400000-7ffcb265b000 ---p 00000000 00:00 0                              [rollup]
Rss:              266504 kB
Pss:              265257 kB
Pss_Dirty:        202724 kB
Pss_Anon:         202724 kB
Pss_File:          62533 kB
Pss_Shmem:             0 kB
Shared_Clean:       1724 kB
Shared_Dirty:          0 kB
Private_Clean:     62056 kB
Private_Dirty:    202724 kB
Referenced:       266504 kB
Anonymous:        202724 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

/** qemu-system-x86_64 (512 MiB guest, TCG, THP madvise) on the host. */
const QEMU_ROLLUP = `558994247000-7ffe857ac000 ---p 00000000 00:00 0                          [rollup]
Rss:              556704 kB
Pss:              544601 kB
Pss_Dirty:        532760 kB
Pss_Anon:         532760 kB
Pss_File:          11841 kB
Pss_Shmem:             0 kB
Shared_Clean:      22324 kB
Shared_Dirty:          0 kB
Private_Clean:      1620 kB
Private_Dirty:    532760 kB
Referenced:       556704 kB
Anonymous:        532760 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:    489472 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

/** /sys/fs/cgroup/memory/docker/<id>/memory.stat (cgroup v1) of the same container. */
const CGROUP_V1_STAT = `cache 3862528
rss 182558720
rss_huge 0
shmem 0
mapped_file 1433600
dirty 94208
writeback 0
workingset_refault_anon 0
workingset_refault_file 920
swap 0
swapcached 0
pgpgin 62478
pgpgout 16965
pgfault 63151
pgmajfault 21
inactive_anon 182554624
active_anon 4096
inactive_file 311296
active_file 3551232
unevictable 0
hierarchical_memory_limit 1073741824
hierarchical_memsw_limit 2147483648
total_cache 3862528
total_rss 182558720
total_rss_huge 0
total_shmem 0
total_mapped_file 1433600
total_dirty 94208
total_writeback 0
total_workingset_refault_anon 0
total_workingset_refault_file 920
total_swap 0
total_swapcached 0
total_pgpgin 62478
total_pgpgout 16965
total_pgfault 63151
total_pgmajfault 21
total_inactive_anon 182554624
total_active_anon 4096
total_inactive_file 311296
total_active_file 3551232
total_unevictable 0
`;
const CGROUP_V1_USAGE = 188964864; // memory.usage_in_bytes
const CGROUP_V1_KMEM = 2228224; // memory.kmem.usage_in_bytes

const CID = '7d8a689d32219b669b113887067851cb6586fe192afcb44b515412f3daa02c30';
/** /proc/<State.Pid>/cgroup of that container: hybrid host, memory controller on v1, cgroupfs driver. */
const PROC_CGROUP_HYBRID = `9:name=systemd:/docker/${CID}
8:pids:/docker/${CID}
7:blkio:/docker/${CID}
6:freezer:/docker/${CID}
5:devices:/docker/${CID}
4:memory:/docker/${CID}
3:cpuset:/docker/${CID}
2:cpuacct:/docker/${CID}
1:cpu:/docker/${CID}
0::/docker/${CID}
`;
/** /proc/self/mountinfo, the cgroup lines (plus one other mount) of this host. */
const MOUNTINFO_HYBRID = `23 1 253:1 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** Start of the guest process listing (GUEST_LIST_COMMAND's real output; kernel threads have empty cmdlines). */
const GUEST_LIST =
  '\n@@vmbench-mem 1\n/bin/busybox\0sh\0/sbin/vmbench-init\0\n@@vmbench-mem 10\n\n@@vmbench-mem 11\n\n' +
  '@@vmbench-mem 127\n/usr/sbin/dropbear\0-s\0-p\x0022\0-r\0/etc/dropbear/dropbear_ed25519_host_key\0-P\0/run/dropbear.pid\0\n' +
  '@@vmbench-mem 128\n/usr/local/bin/node\0/app/server.mjs\0\n' +
  '@@vmbench-mem 148\nsh\0-c\0for d in /proc/[0-9]*; do printf \'\\n@@vmbench-mem %s\\n\' "${d#/proc/}"; cat "$d/cmdline" 2>/dev/null; done; printf \'\\n\'\0\n' +
  '@@vmbench-mem 15\n\n\n';

/** Guest /proc/meminfo (first lines). */
const GUEST_MEMINFO = `MemTotal:         480272 kB
MemFree:          118952 kB
MemAvailable:     243704 kB
Buffers:            1968 kB
Cached:           125564 kB
SwapCached:            0 kB
Active(anon):         24 kB
HugePages_Total:       0
`;

/**
 * NOT captured here (this host has no v2 memory controller): a cgroup v2
 * memory.stat in the field order of Linux 6.x (Documentation/admin-guide/cgroup-v2.rst),
 * values invented to be consistent, for the v2 parser and composition.
 */
const CGROUP_V2_STAT_FORMAT_SAMPLE = `anon 190000000
file 70000000
kernel 3000000
kernel_stack 200000
pagetables 900000
sec_pagetables 0
percpu 100000
sock 4096
vmalloc 8192
shmem 1048576
zswap 0
zswapped 0
file_mapped 60000000
file_dirty 0
file_writeback 0
swapcached 0
anon_thp 0
file_thp 0
shmem_thp 0
inactive_anon 191000000
active_anon 48576
inactive_file 30000000
active_file 38951424
unevictable 0
slab_reclaimable 1000000
slab_unreclaimable 700000
slab 1700000
workingset_refault_anon 0
pgfault 63151
thp_fault_alloc 0
`;

const MiB = 2 ** 20;

describe('parseSmapsRollup', () => {
  it('reads the container node server (host kernel 6.18)', () => {
    const r = parseSmapsRollup(CONTAINER_NODE_ROLLUP);
    expect(r).toMatchObject({
      rssKiB: 243972,
      pssKiB: 243968,
      pssAnonKiB: 178280,
      pssFileKiB: 65688,
      pssShmemKiB: 0,
      anonymousKiB: 178280,
      swapPssKiB: 0,
      anonHugePagesKiB: 0,
    });
    expect(r.pssAnonKiB! + r.pssFileKiB! + r.pssShmemKiB!).toBe(r.pssKiB);
    expect(r.fields.Private_Dirty).toBe(178312);
  });

  it('reads the guest node server (guest kernel 6.1) and QEMU with THP', () => {
    const g = parseSmapsRollup(GUEST_NODE_ROLLUP);
    expect(g.pssKiB).toBe(265257);
    expect(g.fields.KSM).toBeUndefined();
    const q = parseSmapsRollup(QEMU_ROLLUP);
    expect(q.pssKiB).toBe(544601);
    expect(q.anonHugePagesKiB).toBe(489472);
  });

  it('gives null splits on kernels without Pss_Anon and rejects non-rollup text', () => {
    const old = parseSmapsRollup('Rss: 100 kB\nPss: 80 kB\n');
    expect(old.pssAnonKiB).toBeNull();
    expect(old.pssFileKiB).toBeNull();
    expect(() => parseSmapsRollup('MemTotal: 1 kB\n')).toThrow(/no Rss\/Pss/);
    expect(() => parseSmapsRollup('')).toThrow();
  });
});

describe('cgroup memory.stat', () => {
  it('v1: anon = total_rss, kernel = kmem usage, page cache = total_cache − total_shmem', () => {
    const stat = parseMemoryStat(CGROUP_V1_STAT);
    expect(stat.total_rss).toBe(182558720);
    expect(stat.hierarchical_memory_limit).toBe(1073741824);
    const m = cgroupV1Memory(stat, CGROUP_V1_USAGE, CGROUP_V1_KMEM);
    expect(m).toMatchObject({
      version: 1,
      usageBytes: CGROUP_V1_USAGE,
      anonBytes: 182558720,
      kernelBytes: CGROUP_V1_KMEM,
      shmemBytes: 0,
      pageCacheBytes: 3862528,
      mappedFileBytes: 1433600,
    });
    // usage_in_bytes ≈ rss + cache + kmem on this kernel (within 1 MiB).
    expect(Math.abs(CGROUP_V1_USAGE - (m.anonBytes + m.pageCacheBytes + CGROUP_V1_KMEM))).toBeLessThan(MiB);
  });

  it('v1 without kmem accounting: kernel = what usage leaves over rss + cache', () => {
    const m = cgroupV1Memory(parseMemoryStat(CGROUP_V1_STAT), CGROUP_V1_USAGE, null);
    expect(m.kernelBytes).toBe(CGROUP_V1_USAGE - 182558720 - 3862528);
    expect(m.source).toMatch(/usage_in_bytes − total_rss − total_cache/);
    expect(cgroupV1Memory(parseMemoryStat(CGROUP_V1_STAT), 1000, null).kernelBytes).toBeNull();
  });

  it('v2: anon, kernel + sock, shmem taken out of file', () => {
    const stat = parseMemoryStat(CGROUP_V2_STAT_FORMAT_SAMPLE);
    const m = cgroupV2Memory(stat, 265_000_000);
    expect(m).toMatchObject({
      version: 2,
      anonBytes: 190000000,
      kernelBytes: 3000000 + 4096,
      shmemBytes: 1048576,
      pageCacheBytes: 70000000 - 1048576,
      mappedFileBytes: 60000000,
    });
    // Kernels before 5.18 have no `kernel` line: sum its parts.
    const { kernel: _k, ...older } = stat;
    expect(cgroupV2Memory(older, 1).kernelBytes).toBe(200000 + 900000 + 0 + 100000 + 8192 + 1700000 + 4096);
    expect(() => cgroupV2Memory({ file: 1 }, 1)).toThrow(/anon/);
  });
});

describe('which cgroup', () => {
  it('parses /proc/<pid>/cgroup and the cgroup mounts', () => {
    const e = parseProcCgroup(PROC_CGROUP_HYBRID);
    expect(e).toHaveLength(10);
    expect(e.find((x) => x.controllers.includes('memory'))).toEqual({ hierarchyId: 4, controllers: ['memory'], path: `/docker/${CID}` });
    expect(e.at(-1)).toEqual({ hierarchyId: 0, controllers: [], path: `/docker/${CID}` });
    const mounts = parseCgroupMounts(MOUNTINFO_HYBRID);
    expect(mounts).toHaveLength(10);
    expect(mounts.find((m) => m.fstype === 'cgroup2')?.mountPoint).toBe('/sys/fs/cgroup/unified');
  });

  it('hybrid host: the v1 memory hierarchy wins over the controller-less cgroup2 mount', () => {
    expect(resolveMemoryCgroup(PROC_CGROUP_HYBRID, MOUNTINFO_HYBRID)).toEqual({
      version: 1,
      dir: `/sys/fs/cgroup/memory/docker/${CID}`,
      cgroupPath: `/docker/${CID}`,
    });
  });

  it('pure v2 with the systemd driver', () => {
    const procCg = `0::/system.slice/docker-${CID}.scope\n`;
    const mi = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
    expect(resolveMemoryCgroup(procCg, mi)).toEqual({
      version: 2,
      dir: `/sys/fs/cgroup/system.slice/docker-${CID}.scope`,
      cgroupPath: `/system.slice/docker-${CID}.scope`,
    });
  });

  it('a mount whose root is not / (bind-mounted subtree), and a path outside it', () => {
    const mi = '30 23 0:26 /docker /mnt/cg\\040x rw - cgroup2 cgroup2 rw\n';
    expect(resolveMemoryCgroup(`0::/docker/${CID}\n`, mi)?.dir).toBe(`/mnt/cg x/${CID}`);
    expect(resolveMemoryCgroup('0::/other/x\n', mi)).toBeNull();
    expect(resolveMemoryCgroup('', MOUNTINFO_HYBRID)).toBeNull();
  });
});

describe('docker-proxy and guest process matching', () => {
  it('published ports and docker-proxy argv', () => {
    expect(publishedHostPorts({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '60771' }], '9/udp': null })).toEqual([60771]);
    expect(publishedHostPorts(undefined)).toEqual([]);
    const argv = '/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 60771 -container-ip 172.17.0.2 -container-port 8080'.split(' ');
    expect(isDockerProxyFor(argv, [60771], ['172.17.0.2'])).toBe(true);
    expect(isDockerProxyFor(argv, [60771], [])).toBe(true);
    expect(isDockerProxyFor(argv, [60772], ['172.17.0.2'])).toBe(false);
    expect(isDockerProxyFor(argv, [60771], ['172.17.0.3'])).toBe(false);
    expect(isDockerProxyFor(['/usr/bin/socat', '-host-port', '60771'], [60771], [])).toBe(false);
  });

  it('finds the node server in the guest listing, not the shell that lists', () => {
    const procs = parseGuestProcessList(GUEST_LIST);
    expect(procs.get(1)).toEqual(['/bin/busybox', 'sh', '/sbin/vmbench-init']);
    expect(procs.get(10)).toEqual([]);
    expect(procs.get(128)).toEqual(['/usr/local/bin/node', '/app/server.mjs']);
    expect(procs.get(148)?.[0]).toBe('sh');
    expect(findServerPid(procs)).toBe(128);
    // A shell whose script mentions the server script is not the server.
    procs.set(200, ['sh', '-c', 'cat /proc/1/cmdline | grep /app/server.mjs']);
    expect(findServerPid(procs)).toBe(128);
    procs.delete(128);
    expect(findServerPid(procs)).toBeNull();
  });

  it('guest /proc/meminfo', () => {
    const m = parseMeminfo(GUEST_MEMINFO);
    expect(m.MemTotal).toBe(480272 * 1024);
    expect(m['Active(anon)']).toBe(24 * 1024);
    expect(m.HugePages_Total).toBe(0);
  });
});

describe('memoryOverhead', () => {
  it('container: host = Σ counted parts; page cache apart; overhead vs workload PSS', () => {
    const counted = {
      cgroupAnon: 180 * MiB,
      cgroupKernel: 2 * MiB,
      cgroupShmem: 0,
      mappedFilePss: 64 * MiB,
      shimPss: 12 * MiB,
      proxyPss: 2 * MiB,
    };
    const o = memoryOverhead({ counted, pageCacheBytes: 4 * MiB }, { pssBytes: 240 * MiB, rssBytes: 241 * MiB });
    expect(o.hostMiB).toBe(260);
    expect(o.workloadPssMiB).toBe(240);
    expect(o.workloadRssMiB).toBe(241);
    expect(o.overheadMiB).toBe(20);
    expect(o.overheadPct).toBeCloseTo((20 / 240) * 100, 10);
    expect(o.pageCacheMiB).toBe(4);
    expect(o.parts).toEqual({ cgroupAnon: 180, cgroupKernel: 2, cgroupShmem: 0, mappedFilePss: 64, shimPss: 12, proxyPss: 2 });
  });

  it('VM: QEMU PSS vs the guest server PSS; page cache not attributable; negative overhead is kept', () => {
    const o = memoryOverhead({ counted: { qemuPss: 544601 * 1024 }, pageCacheBytes: null }, { pssBytes: 265257 * 1024, rssBytes: 266504 * 1024 });
    expect(o.pageCacheMiB).toBeNull();
    expect(o.overheadMiB).toBeCloseTo((544601 - 265257) / 1024, 6);
    expect(o.overheadPct).toBeCloseTo(((544601 - 265257) / 265257) * 100, 6);
    expect(memoryOverhead({ counted: { a: MiB }, pageCacheBytes: 0 }, { pssBytes: 2 * MiB, rssBytes: 2 * MiB }).overheadPct).toBe(-50);
  });

  it('rejects impossible inputs', () => {
    expect(() => memoryOverhead({ counted: { a: -1 }, pageCacheBytes: 0 }, { pssBytes: 1, rssBytes: 1 })).toThrow(BenchError);
    expect(() => memoryOverhead({ counted: { a: NaN }, pageCacheBytes: 0 }, { pssBytes: 1, rssBytes: 1 })).toThrow(BenchError);
    expect(() => memoryOverhead({ counted: { a: 1 }, pageCacheBytes: 0 }, { pssBytes: 0, rssBytes: 0 })).toThrow(BenchError);
  });
});

describe('readKsmThp', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('reads KSM counters and the selected THP modes', async () => {
    expect(parseThpMode('always [madvise] never\n')).toBe('madvise');
    expect(parseThpMode('always defer defer+madvise [madvise] never')).toBe('madvise');
    expect(parseThpMode('[defer+madvise] never')).toBe('defer+madvise');
    expect(parseThpMode('garbage')).toBeNull();
    const root = mkdtempSync(join(tmpdir(), 'vmbench-sys-'));
    dirs.push(root);
    mkdirSync(join(root, 'kernel/mm/ksm'), { recursive: true });
    mkdirSync(join(root, 'kernel/mm/transparent_hugepage'), { recursive: true });
    writeFileSync(join(root, 'kernel/mm/ksm/run'), '1\n');
    writeFileSync(join(root, 'kernel/mm/ksm/pages_sharing'), '4242\n');
    writeFileSync(join(root, 'kernel/mm/ksm/pages_shared'), '17\n');
    writeFileSync(join(root, 'kernel/mm/transparent_hugepage/enabled'), '[always] madvise never\n');
    expect(await readKsmThp(root)).toEqual({ ksmRun: 1, ksmPagesSharing: 4242, ksmPagesShared: 17, thpEnabled: 'always', thpDefrag: null });
    const none = mkdtempSync(join(tmpdir(), 'vmbench-sys-'));
    dirs.push(none);
    expect(await readKsmThp(none)).toEqual({ ksmRun: null, ksmPagesSharing: null, ksmPagesShared: null, thpEnabled: null, thpDefrag: null });
  });

  it('reads this host', async () => {
    const s = await readKsmThp();
    console.log(`host: ${JSON.stringify(s)}`);
    expect(s.thpEnabled === null || ['always', 'madvise', 'never'].includes(s.thpEnabled)).toBe(true);
  });
});

describe('measureMemory', () => {
  const reading: MemoryReading = {
    kind: 'fake',
    method: 'fake',
    takenAtEpochMs: 0,
    host: { attributableBytes: 300 * MiB, counted: { a: 300 * MiB }, pageCacheBytes: 0, info: {}, processes: [] },
    workload: {
      pid: 1,
      command: 'node /app/server.mjs',
      rssBytes: 250 * MiB,
      pssBytes: 250 * MiB,
      pssAnonBytes: null,
      pssFileBytes: null,
      pssShmemBytes: null,
      swapPssBytes: 0,
      anonHugePagesBytes: 0,
      seenFrom: 'host',
    },
    notes: [],
  };

  class NoMemoryPlatform extends Platform {
    readonly kind = 'fake' as const;
    readonly cpus = 1;
    constructor() {
      super('fake');
    }
    async prepare(): Promise<PlatformFacts> {
      return {};
    }
    protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<Instance> {
      return { id: spec.instanceId, runId: spec.runId, platformName: this.name, kind: 'fake', baseUrl: 'http://127.0.0.1:1', lifecycle, facts: {} };
    }
    protected async doStop(): Promise<void> {}
    async cleanupRun(): Promise<void> {}
  }
  class FakePlatform extends NoMemoryPlatform {
    readAt: number[] = [];
    override async memoryReading(): Promise<MemoryReading> {
      this.readAt.push(performance.now());
      return reading;
    }
  }
  const spec: InstanceSpec = { runId: 'r', instanceId: 'i', port: 1, threads: 1, modelName: 'model' };

  it('waits settleMs after readiness, then composes the reading', async () => {
    const p = new FakePlatform();
    const inst = await p.launch(spec);
    inst.lifecycle.ready = performance.now();
    const m = await measureMemory(p, inst, { settleMs: 150 });
    expect(p.readAt[0]! - inst.lifecycle.ready).toBeGreaterThanOrEqual(145);
    expect(m.sinceReadyMs).toBeGreaterThanOrEqual(145);
    expect(m.overhead.overheadMiB).toBe(50);
    expect(m.overhead.overheadPct).toBe(20);
    const values = memorySampleValues(m);
    expect(values.map((v) => v.metric)).toEqual([
      'memory_host',
      'memory_workload_pss',
      'memory_workload_rss',
      'memory_overhead',
      'memory_overhead_pct',
      'memory_page_cache',
    ]);
    expect(values.find((v) => v.metric === 'memory_overhead_pct')).toMatchObject({ value: 20, unit: '%' });
    expect(values[0]!.metadata.method).toBe('fake');
  });

  it('readiness long past: no wait', async () => {
    const p = new FakePlatform();
    const inst = await p.launch(spec);
    inst.lifecycle.ready = performance.now() - 10_000;
    const t0 = performance.now();
    await measureMemory(p, inst, { settleMs: 5000 });
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('abort while settling, and platforms without a reader', async () => {
    const p = new FakePlatform();
    const inst = await p.launch(spec);
    inst.lifecycle.ready = performance.now();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop now')), 20);
    await expect(measureMemory(p, inst, { settleMs: 10_000, signal: ac.signal })).rejects.toThrow('stop now');
    expect(p.readAt).toHaveLength(0);
    const q = new NoMemoryPlatform();
    const err = await measureMemory(q, await q.launch(spec), { settleMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('unsupported');
  });
});
