import { readFile } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import { pinProcess } from '../host/pin.js';
import { resolveMemoryCgroup } from '../host/proc-memory.js';

/**
 * Restrict a running container to some host CPUs. The engine's way first
 * (`docker update --cpuset-cpus`: the container's cgroup cpuset); some
 * runtimes cannot update a running container — crun 1.8 fails rewriting the
 * memory limit it is handed back ("memory.limit_in_bytes: Device or resource
 * busy"), runsc has no `update` at all — and then every host process in the
 * container's cgroup (for gVisor: the sentry, the gofer and their stubs) gets
 * the same CPUs with taskset; threads and processes started later inherit
 * the affinity. Returns how it was done.
 */
export async function pinContainer(docker: Dockerode, containerId: string, cpus: string): Promise<string> {
  const container = docker.getContainer(containerId);
  let refused: string;
  try {
    await container.update({ CpusetCpus: cpus });
    return 'cpuset (docker update)';
  } catch (err) {
    refused = messageOf(err).split('\n')[0]!.replace(/^\(HTTP code \d+\) server error - /, '');
  }
  const pid = (await container.inspect()).State?.Pid ?? 0;
  if (!pid) throw new BenchError('infrastructure', `pinning ${containerId.slice(0, 12)}: the container is not running`);
  const loc = resolveMemoryCgroup(await readFile(`/proc/${pid}/cgroup`, 'utf8'), await readFile('/proc/self/mountinfo', 'utf8'));
  const pids = loc
    ? (await readFile(`${loc.dir}/cgroup.procs`, 'utf8')).split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number)
    : [pid];
  for (const p of pids) await pinProcess(p, cpus);
  return `taskset of the container's ${pids.length} host process(es) (docker update refused: ${refused.slice(0, 160)})`;
}
