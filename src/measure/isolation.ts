import { BenchError, messageOf } from '../errors.js';
import type { Instance } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import { ENDPOINTS } from '../workload/contract.js';
import { siteOf } from './load-site.js';
import { onceIf, type Measurement, type StepContext } from './measurement.js';

/**
 * isolation: what the workload sees of its isolation, read by the server
 * itself from inside one ready instance (GET /vmbench/isolation: kernel
 * release and boot id, CapEff, Seccomp, NoNewPrivs, uid and uid_map, device
 * nodes), held against the host's kernel (same boot id = the same kernel
 * instance: the host's, shared); and what crossing the boundary costs: µs per
 * getuid() and per stat('/'), timed in-process by the workload
 * (GET /vmbench/syscalls).
 */

interface InsideFacts {
  kernelRelease: string;
  bootId: string | null;
  capEff: string;
  capabilities: number;
  seccomp: string;
  noNewPrivs: boolean | null;
  uid: number;
  uidMap: string;
  hostDevices: string[];
}

interface SyscallTimes {
  getuid: { calls: number; nsPerCall: number };
  stat: { calls: number; nsPerCall: number };
}

/** uid_map "0 0 4294967295": the identity map of the initial user namespace. */
export function inUserNamespace(uidMap: string): boolean {
  const first = uidMap.trim().split('\n')[0]?.trim().split(/\s+/).map(Number) ?? [];
  return !(first[0] === 0 && first[1] === 0 && first[2] === 4294967295);
}

async function getJson<T>(ctx: StepContext, instance: Instance, path: string, timeoutMs: number): Promise<T> {
  let res;
  try {
    res = await siteOf(instance).probe({ url: instance.baseUrl + path, timeoutMs });
  } catch (cause) {
    throw new BenchError('infrastructure', `${ctx.platform.name}: GET ${path}: ${messageOf(cause)}`, { cause });
  }
  if (res.status !== 200) throw new BenchError('infrastructure', `${ctx.platform.name}: GET ${path} answered HTTP ${res.status}: ${res.body.toString().slice(0, 200)}`);
  return JSON.parse(res.body.toString()) as T;
}

/** The facts as sample metadata (flat: strings, numbers, booleans). */
export function isolationMetadata(inside: InsideFacts, host: { release: string; bootId: string | null }, instance: Instance): Sample['metadata'] {
  const f = instance.facts;
  return {
    kernelRelease: inside.kernelRelease,
    hostKernelRelease: host.release,
    sharedKernel: inside.bootId !== null && inside.bootId === host.bootId,
    bootIdInside: inside.bootId,
    capEff: inside.capEff,
    seccomp: inside.seccomp,
    noNewPrivs: inside.noNewPrivs,
    uid: inside.uid,
    uidMap: inside.uidMap,
    userNamespace: inUserNamespace(inside.uidMap),
    hostDevices: inside.hostDevices.join(' '),
    runtime: String(f.runtime ?? 'unknown'),
    runtimeVersion: f.runtimeVersion === undefined ? null : String(f.runtimeVersion),
    gvisorPlatform: f.gvisorPlatform === undefined ? null : String(f.gvisorPlatform),
    network: f.gvisorNetwork !== undefined ? String(f.gvisorNetwork) : String(f.network ?? 'unknown'),
  };
}

export const isolationMeasurement: Measurement = {
  name: 'isolation',
  uses: 'ready',
  rounds: (s) => onceIf(s.measurements.isolation),
  // The facts and the syscall timings are read by vmbench's own server (/vmbench/isolation, /vmbench/syscalls).
  unsupported: (_p, s) => (s.workload.image !== undefined ? "an image workload's server has no /vmbench/isolation endpoint (isolation facts are read by vmbench's built-in server)" : null),
  async run(ctx, s) {
    const instance = await ctx.readyInstance();
    const inside = await getJson<InsideFacts>(ctx, instance, ENDPOINTS.isolation, 10_000);
    const host = await ctx.platform.hostKernel();
    const metadata = isolationMetadata(inside, host, instance);
    ctx.emit({ metric: 'isolation_capabilities', value: inside.capabilities, unit: 'count', metadata });
    // Seconds under TCG or gVisor's ptrace platform: a syscall there costs tens of µs.
    const calls = s.measurements.isolation!.calls;
    const t = await getJson<SyscallTimes>(ctx, instance, `${ENDPOINTS.syscalls}?calls=${calls}`, 300_000);
    for (const call of ['getuid', 'stat'] as const) {
      ctx.emit({ metric: 'syscall', params: { call }, value: t[call].nsPerCall / 1000, unit: 'us', metadata: { calls: t[call].calls, runtime: metadata.runtime ?? null } });
    }
  },
};
