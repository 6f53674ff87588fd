import { basename } from 'node:path';
import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import { GUEST_SERVER } from '../../workload/contract.js';
import {
  type CgroupMemory,
  cgroupV1Memory,
  cgroupV2Memory,
  describeArgv,
  listPids,
  parseMemoryStat,
  readCmdline,
  readPpid,
  readProcessMemory,
  resolveMemoryCgroup,
} from '../host/proc-memory.js';
import { localFs, type HostFs } from '../host/host-fs.js';
import { readServerMemoryInside } from '../linux-guest/guest-memory.js';
import type { MemoryReading, ProcessMemory, WorkloadMemory } from '../memory-reading.js';
import { execInContainer } from './exec.js';

/**
 * Host memory of one Docker container (definition: src/measure/memory.ts):
 *
 *  1. `docker inspect` → State.Pid (the container's main process), network mode, published ports.
 *  2. /proc/<pid>/cgroup + /proc/self/mountinfo → the memory cgroup directory
 *     (cgroup v1 memory hierarchy if present, else the v2 unified one).
 *  3. v1: memory.stat, memory.usage_in_bytes, memory.kmem.usage_in_bytes;
 *     v2: memory.stat, memory.current.
 *  4. cgroup.procs → smaps_rollup of every process in the container (Σ Pss_File:
 *     the file pages they keep mapped, which the cgroup may not be charged for:
 *     page cache is charged to whoever faulted it in first).
 *  5. containerd-shim = parent of the main pid (checked by its argv; else found by `-id <container id>`).
 *  6. docker-proxy: processes whose argv is docker-proxy … -host-port <P> for a published port P
 *     (only off host networking).
 *  7. The workload: the process in the container whose argv names the server script.
 */

const SHIM_PREFIX = 'containerd-shim';

async function readText(path: string, fs: HostFs): Promise<string> {
  try {
    return await fs.readFile(path);
  } catch (cause) {
    throw new BenchError('infrastructure', `memory reading: cannot read ${path}: ${messageOf(cause)}`, { cause });
  }
}

async function readOptionalNumber(path: string, fs: HostFs): Promise<number | null> {
  try {
    const v = Number((await fs.readFile(path)).trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

const isShim = (argv: string[] | null) => !!argv?.[0] && basename(argv[0]).startsWith(SHIM_PREFIX);

/** Value following `flag` in argv. */
function argAfter(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Published host ports of a container (NetworkSettings.Ports), as numbers. */
export function publishedHostPorts(ports: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined): number[] {
  const out = new Set<number>();
  for (const bindings of Object.values(ports ?? {})) {
    for (const b of bindings ?? []) {
      const p = Number(b.HostPort);
      if (Number.isInteger(p) && p > 0) out.add(p);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** True for a docker-proxy argv forwarding one of `hostPorts` (to `containerIps`, when known). */
export function isDockerProxyFor(argv: string[], hostPorts: number[], containerIps: string[]): boolean {
  if (!argv[0] || basename(argv[0]) !== 'docker-proxy') return false;
  const hp = Number(argAfter(argv, '-host-port'));
  if (!hostPorts.includes(hp)) return false;
  const cip = argAfter(argv, '-container-ip');
  return containerIps.length === 0 || cip === undefined || containerIps.includes(cip);
}

async function readCgroup(dir: string, version: 1 | 2, fs: HostFs): Promise<CgroupMemory> {
  const stat = parseMemoryStat(await readText(`${dir}/memory.stat`, fs));
  try {
    if (version === 1) {
      const usage = await readOptionalNumber(`${dir}/memory.usage_in_bytes`, fs);
      if (usage === null) throw new BenchError('infrastructure', `no ${dir}/memory.usage_in_bytes`);
      return cgroupV1Memory(stat, usage, await readOptionalNumber(`${dir}/memory.kmem.usage_in_bytes`, fs));
    }
    const current = await readOptionalNumber(`${dir}/memory.current`, fs);
    if (current === null) throw new BenchError('infrastructure', `no ${dir}/memory.current (memory controller not enabled there?)`);
    return cgroupV2Memory(stat, current);
  } catch (cause) {
    if (cause instanceof BenchError) throw cause;
    throw new BenchError('infrastructure', `memory reading: ${messageOf(cause)}`, { cause });
  }
}

export interface DockerMemoryOptions {
  /**
   * The server runs under its own kernel (gVisor): read it from inside the
   * sandbox (docker exec) instead of the host's /proc, and name the
   * sandbox's own host processes (sentry, gofer) in the reading.
   */
  workloadInside?: boolean;
  /** The files of the host the engine runs on (default this machine's). */
  fs?: HostFs;
  /** The shell the in-sandbox reading runs with (an image workload may have none of its own: its bundled busybox). */
  shell?: string;
}

/** gVisor's host processes, by argv[0]: the sentry (the sandbox's kernel) and the gofer (its file server). */
export function gvisorRole(argv: string[] | null): 'sentry' | 'gofer' | null {
  const exe = argv?.[0] ? basename(argv[0]) : '';
  if (exe === 'runsc-sandbox' || (exe === 'runsc' && argv!.includes('boot'))) return 'sentry';
  if (exe === 'runsc-gofer' || (exe === 'runsc' && argv!.includes('gofer'))) return 'gofer';
  return null;
}

export async function readDockerMemory(docker: Dockerode, containerId: string, opts: DockerMemoryOptions = {}): Promise<MemoryReading> {
  const notes: string[] = [];
  const fs = opts.fs ?? localFs;
  let info: Dockerode.ContainerInspectInfo;
  try {
    info = await docker.getContainer(containerId).inspect();
  } catch (cause) {
    throw new BenchError('infrastructure', `memory reading: docker inspect ${containerId.slice(0, 12)}: ${messageOf(cause)}`, { cause });
  }
  const pid = info.State?.Pid ?? 0;
  if (!info.State?.Running || !pid) {
    throw new BenchError('infrastructure', `memory reading: container ${containerId.slice(0, 12)} is not running (${info.State?.Status ?? '?'})`);
  }
  const id = info.Id;

  // The memory cgroup, from the main process's own cgroup membership.
  const procCgroup = await readText(`/proc/${pid}/cgroup`, fs);
  const mountinfo = await readText('/proc/self/mountinfo', fs);
  const loc = resolveMemoryCgroup(procCgroup, mountinfo);
  if (!loc) {
    throw new BenchError('infrastructure', `memory reading: no memory cgroup found for pid ${pid} (/proc/${pid}/cgroup: ${procCgroup.trim().replace(/\n/g, ' | ')})`);
  }
  if (!loc.cgroupPath.includes(id)) notes.push(`cgroup path ${loc.cgroupPath} does not name container ${id.slice(0, 12)}`);
  const cg = await readCgroup(loc.dir, loc.version, fs);

  // Every process in the container.
  const procsText = await readText(`${loc.dir}/cgroup.procs`, fs);
  const pids = procsText.split('\n').filter((l) => /^[0-9]+$/.test(l.trim())).map(Number);
  const procs: ProcessMemory[] = [];
  const argvs = new Map<number, string[] | null>();
  for (const p of pids) {
    const m = await readProcessMemory(p, '/proc', fs);
    if (m) procs.push(m);
    argvs.set(p, await readCmdline(p, '/proc', fs));
  }

  // A host user that is neither root nor the container's uid may not read its processes' smaps
  // (ptrace access): a remote host reached as an unprivileged docker-group user. The server is then
  // read from inside (same kernel, same figures), and what only root could read is named as missing.
  const restricted = await fs.readFile(`/proc/${pid}/smaps_rollup`).then(() => false, (e: unknown) => (e as { code?: string }).code === 'EACCES');
  if (restricted) notes.push(`${fs.host === 'local' ? 'this user' : `the SSH user on ${fs.host}`} may not read the container's /proc/<pid>/smaps_rollup (not root): the server is read inside through docker exec, mapped file pages from the cgroup's mapped_file, and the containerd-shim's PSS is not counted`);

  // The workload server process: on the host's /proc, or (gVisor) inside the sandbox.
  let workload: WorkloadMemory;
  let workloadSource: string;
  if (opts.workloadInside || restricted) {
    const inside = await readServerMemoryInside((cmd) => execInContainer(docker, id, cmd, 30_000, opts.shell), 'docker-exec');
    workload = inside.workload;
    workloadSource = `/proc/${workload.pid}/smaps_rollup (or smaps, summed) inside the ${opts.workloadInside ? 'sandbox' : 'container'}, through docker exec`;
    if (opts.workloadInside && workload.rssBytes === workload.pssBytes) {
      notes.push("the sandbox's kernel reports the server's PSS equal to its RSS (its own accounting: no page sharing), so memory_overhead compares two accountings and can be negative; memory_host is the host's figure");
    }
  } else {
    const serverPid = [pid, ...pids].find((p) => (argvs.get(p) ?? []).includes(GUEST_SERVER)) ?? null;
    let workloadProc = procs.find((p) => p.pid === (serverPid ?? pid)) ?? null;
    if (serverPid === null) notes.push(`no process in the container runs ${GUEST_SERVER}; the main pid ${pid} stands for the workload`);
    if (!workloadProc) workloadProc = await readProcessMemory(pid, '/proc', fs);
    if (!workloadProc) throw new BenchError('infrastructure', `memory reading: cannot read /proc/${pid}/smaps_rollup (container exited?)`);
    workload = { ...workloadProc, seenFrom: 'host' };
    workloadSource = `/proc/${workload.pid}/smaps_rollup on the host (${describeArgv(argvs.get(workload.pid) ?? null, 60)})`;
  }
  // gVisor's own processes (in the container's cgroup): already counted there, named for the reader.
  const runtimeProcs: Record<string, number> = {};
  for (const p of procs) {
    const role = gvisorRole(argvs.get(p.pid) ?? null);
    if (role) runtimeProcs[`${role}Pss`] = (runtimeProcs[`${role}Pss`] ?? 0) + p.pssBytes;
  }
  if (opts.workloadInside && Object.keys(runtimeProcs).length === 0) {
    notes.push(`no gVisor sentry or gofer among the cgroup's processes (${pids.join(', ')})`);
  }

  // Σ Pss_File over the container's processes.
  let mappedFilePss = 0;
  let pssFileMissing = false;
  for (const p of procs) {
    if (p.pssFileBytes === null) pssFileMissing = true;
    else mappedFilePss += p.pssFileBytes;
  }
  if (restricted) {
    // The page cache is charged to whoever faulted it in first, so the cgroup's mapped_file can miss
    // the binaries and model the server maps: its own Pss_File (read inside) is the better figure.
    mappedFilePss = workload.pssFileBytes ?? cg.mappedFileBytes;
    notes.push(workload.pssFileBytes === null ? 'mapped file pages counted as the cgroup mapped_file' : "mapped file pages counted as the server's own Pss_File (read inside; the container's other processes are not included)");
  } else if (pssFileMissing) {
    notes.push('this kernel reports no Pss_File: mapped file pages counted as the cgroup mapped_file instead');
    mappedFilePss = cg.mappedFileBytes;
  }

  // containerd-shim and docker-proxy.
  const hostProcs: ProcessMemory[] = [];
  let allArgv: Map<number, string[] | null> | null = null;
  const scanAll = async () => {
    if (allArgv) return allArgv;
    allArgv = new Map();
    for (const p of await listPids('/proc', fs)) allArgv.set(p, await readCmdline(p, '/proc', fs));
    return allArgv;
  };
  let shimPid: number | null = null;
  const ppid = await readPpid(pid, '/proc', fs);
  if (ppid && isShim(await readCmdline(ppid, '/proc', fs))) shimPid = ppid;
  else {
    for (const [p, argv] of await scanAll()) {
      if (isShim(argv) && argv && argAfter(argv, '-id') === id) shimPid = p;
    }
    notes.push(`parent ${ppid ?? '?'} of pid ${pid} is not a ${SHIM_PREFIX}; ${shimPid ? `found ${shimPid} by -id` : 'no shim found'}`);
  }
  let shimPss = 0;
  let shimNote = 'none found';
  if (shimPid) {
    const m = await readProcessMemory(shimPid, '/proc', fs);
    if (m) {
      hostProcs.push(m);
      shimPss = m.pssBytes;
      shimNote = `pid ${shimPid}`;
    }
  }

  const networkMode = info.HostConfig?.NetworkMode ?? '?';
  const hostPorts = networkMode === 'host' ? [] : publishedHostPorts(info.NetworkSettings?.Ports);
  const ips = Object.values(info.NetworkSettings?.Networks ?? {})
    .map((n) => n.IPAddress)
    .filter((ip): ip is string => !!ip);
  let proxyPss: number | null = null;
  let proxyNote = 'not applicable (host network or no published port)';
  if (hostPorts.length) {
    proxyPss = 0;
    const found: number[] = [];
    for (const [p, argv] of await scanAll()) {
      if (argv && isDockerProxyFor(argv, hostPorts, ips)) {
        const m = await readProcessMemory(p, '/proc', fs);
        if (m) {
          hostProcs.push(m);
          proxyPss += m.pssBytes;
          found.push(p);
        }
      }
    }
    proxyNote = found.length ? `pid(s) ${found.join(', ')} for host port(s) ${hostPorts.join(', ')}` : 'none found (userland proxy disabled?)';
    if (!found.length) notes.push(`published port(s) ${hostPorts.join(', ')} but no docker-proxy process found`);
  }

  let kernel = cg.kernelBytes;
  if (kernel === null) {
    notes.push('cgroup reports no kernel memory; counted as 0');
    kernel = 0;
  }
  const counted: Record<string, number> = {
    cgroupAnon: cg.anonBytes,
    cgroupKernel: kernel,
    cgroupShmem: cg.shmemBytes,
    mappedFilePss,
    shimPss,
  };
  if (proxyPss !== null) counted.proxyPss = proxyPss;
  const attributableBytes = Object.values(counted).reduce((a, b) => a + b, 0);
  const sum = (f: (p: ProcessMemory) => number) => procs.reduce((a, p) => a + f(p), 0);

  const method = [
    `cgroup v${cg.version} ${loc.dir} (from /proc/${pid}/cgroup): ${cg.version === 1 ? 'memory.stat, memory.usage_in_bytes, memory.kmem.usage_in_bytes' : 'memory.stat, memory.current'} [${cg.source}]`,
    restricted ? `mappedFilePss = Pss_File of the server inside (host smaps not readable)` : `mappedFilePss = Σ Pss_File of /proc/{${pids.join(',')}}/smaps_rollup (cgroup.procs)`,
    `workload = ${workloadSource}`,
    `shim = ${SHIM_PREFIX} ${shimNote}`,
    `docker-proxy: ${proxyNote}`,
    `network ${networkMode}`,
  ].join('; ');

  return {
    kind: 'docker',
    method,
    takenAtEpochMs: Date.now(),
    host: {
      attributableBytes,
      counted,
      pageCacheBytes: cg.pageCacheBytes,
      info: {
        cgroupUsage: cg.usageBytes,
        cgroupMappedFile: cg.mappedFileBytes,
        containerRss: sum((p) => p.rssBytes),
        containerPss: sum((p) => p.pssBytes),
        containerPssAnon: sum((p) => p.pssAnonBytes ?? 0),
        containerAnonHugePages: sum((p) => p.anonHugePagesBytes),
        ...runtimeProcs,
      },
      processes: hostProcs,
    },
    workload,
    notes,
  };
}
