import type Dockerode from 'dockerode';
import { BenchError } from '../../errors.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '../host/command-runner.js';
import { findNvidiaDriverFiles } from '../host/nvidia-driver-files.js';
import { queryGpus } from '../host/nvidia-smi.js';
import { chooseDockerGpuAccess, type ContainerGpu, type DockerGpuAccess, type DockerGpuHost, type DockerGpuSelection } from './gpu-options.js';

/**
 * Gathers what chooseDockerGpuAccess() decides on: the engine's runtimes and
 * CDI spec dirs (docker info), the NVIDIA container toolkit's hook on the
 * host, CDI specs for nvidia.com/gpu, the GPUs nvidia-smi lists and the
 * driver's device nodes and libraries. Files under `root`, commands through
 * `run`, so a fixture host can stand in.
 */

export const RUNTIME_HOOK = 'nvidia-container-runtime-hook';
/** Where CDI specs live when the engine does not say (the CDI spec's defaults). */
export const DEFAULT_CDI_DIRS = ['/etc/cdi', '/var/run/cdi'];

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

async function findOnPath(root: string, name: string, pathEnv: string): Promise<string | null> {
  const dirs = [...new Set([...pathEnv.split(':').filter(Boolean), '/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin'])];
  for (const d of dirs) if (await isFile(join(root, d, name))) return join(d, name);
  return null;
}

async function nvidiaCdiSpecs(root: string, dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    for (const f of (await readdir(join(root, d)).catch(() => [] as string[])).sort()) {
      if (!/\.(ya?ml|json)$/.test(f)) continue;
      const text = await readFile(join(root, d, f), 'utf8').catch(() => '');
      if (/["']?kind["']?\s*:\s*["']?nvidia\.com\/gpu/.test(text)) out.push(join(d, f));
    }
  }
  return out;
}

export async function detectDockerGpuHost(
  info: { Runtimes?: Record<string, unknown>; CDISpecDirs?: string[] | null } | null,
  o: { root?: string; run: CommandRunner; pathEnv?: string },
): Promise<DockerGpuHost> {
  const root = o.root ?? '/';
  const cdiSpecDirs = Array.isArray(info?.CDISpecDirs) ? info.CDISpecDirs : null;
  const smi = await queryGpus(o.run);
  return {
    runtimeHook: await findOnPath(root, RUNTIME_HOOK, o.pathEnv ?? process.env.PATH ?? ''),
    runtimes: Object.keys(info?.Runtimes ?? {}),
    cdiSpecDirs,
    cdiNvidiaSpecs: await nvidiaCdiSpecs(root, cdiSpecDirs && cdiSpecDirs.length ? cdiSpecDirs : DEFAULT_CDI_DIRS),
    driver: await findNvidiaDriverFiles(root, o.run),
    gpus: smi.ok ? smi.gpus.map((g) => ({ index: g.index, uuid: g.uuid, pciAddress: g.pciAddress })) : [],
  };
}

/** docker info as detectDockerGpuHost reads it (null when the engine does not answer). */
export async function dockerInfoForGpu(docker: Dockerode): Promise<{ Runtimes?: Record<string, unknown>; CDISpecDirs?: string[] | null } | null> {
  return (await docker.info().catch(() => null)) as { Runtimes?: Record<string, unknown>; CDISpecDirs?: string[] | null } | null;
}

export interface ContainerGpuRequest {
  selection: DockerGpuSelection;
  /** fallback: cpu in the scenario: no way to the GPU is a fact, not a failure. */
  fallback: boolean;
}

/**
 * prepare()'s GPU step: how this engine's containers reach the requested
 * GPUs, with the facts a run records. No way in fails (unsupported: exit 3)
 * naming each missing piece, unless the scenario allows fallback: cpu.
 * gVisor's sandbox reaches a GPU only through its nvproxy (runsc --nvproxy).
 */
export async function resolveContainerGpu(
  request: ContainerGpuRequest,
  runtime: { name: string; gvisor: boolean; runtimeArgs: string[] },
  host: () => Promise<DockerGpuHost>,
): Promise<{ gpu: ContainerGpu; facts: Record<string, string> }> {
  let access: DockerGpuAccess;
  if (runtime.gvisor && !runtime.runtimeArgs.some((a) => a === '--nvproxy' || a === '--nvproxy=true')) {
    access = { mode: 'none', reason: `runtime ${runtime.name} (gVisor) runs without --nvproxy, so its sandbox cannot reach an NVIDIA GPU` };
  } else {
    access = chooseDockerGpuAccess(await host(), request.selection);
  }
  if (access.mode === 'none' && !request.fallback) {
    throw new BenchError('unsupported', `docker: no way to give the container a GPU: ${access.reason}`, {
      hint: 'install the NVIDIA driver and nvidia-container-toolkit (or see `bench doctor`); scenarios/cpu-resnet.yaml runs the same workload on CPU; fallback: cpu runs this one on CPU and records it',
    });
  }
  const facts: Record<string, string> = {
    gpuAccess: access.mode,
    gpuAccessDetail: access.mode === 'none' ? `${access.reason} (fallback: cpu)` : access.via,
    gpuSelection: request.selection === 'all' ? 'all' : request.selection.join(','),
  };
  return { gpu: { access, selection: request.selection, fallback: request.fallback }, facts };
}
