import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import type { CommandRunner } from '../host/command-runner.js';
import { queryComputeApps, queryGpus } from '../host/nvidia-smi.js';
import { readingFromProcesses, type GpuReading } from '../gpu-reading.js';

/** The PID column of `docker top` (host pids of every process in the container). */
export function topPids(top: { Titles?: string[]; Processes?: string[][] }): number[] {
  const col = (top.Titles ?? []).indexOf('PID');
  if (col < 0) return [];
  return (top.Processes ?? []).map((p) => Number(p[col])).filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * A container's GPU use from the host: its processes (docker top: host pids)
 * matched against nvidia-smi --query-compute-apps, and --query-gpu for the
 * utilisation of the GPUs they hold.
 */
export async function readContainerGpu(docker: Dockerode, containerId: string, run: CommandRunner): Promise<GpuReading> {
  let pids: number[];
  try {
    pids = topPids((await docker.getContainer(containerId).top()) as { Titles?: string[]; Processes?: string[][] });
  } catch (err) {
    throw new BenchError('infrastructure', `docker top ${containerId.slice(0, 12)} failed: ${messageOf(err)}`, { cause: err });
  }
  const [apps, gpus] = await Promise.all([queryComputeApps(run), queryGpus(run)]);
  if (!gpus.ok) throw new BenchError('infrastructure', `cannot read GPU use: ${gpus.detail}`);
  return readingFromProcesses(pids, apps, gpus.gpus, 'host nvidia-smi --query-compute-apps (pids of docker top) + --query-gpu');
}
