import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { detectDockerGpuHost, dockerInfoForGpu } from '../../platforms/docker/gpu-host.js';
import { runHostCommand, type CommandRunner } from '../../platforms/host/command-runner.js';
import { detectGpuHost } from '../../platforms/host/gpu.js';
import { readVfioHostState } from '../../platforms/qemu/vfio.js';
import { defaultGpuSearchDirs, locateCudaProvider } from '../../workload/gpu-libraries.js';
import { ORT_NATIVE_DIR, ortNodeDir } from '../../workload/build/rootfs/ort-files.js';
import { checkGuestDriver } from '../../workload/build/vm/guest-driver.js';
import { readFile } from 'node:fs/promises';
import type { GpuFindings, GpuWants } from './gpu-readiness.js';

/**
 * Gathers GpuFindings for the wants of a scenario (or, for `bench doctor`
 * alone, everything the host has): files under `root`, commands through
 * `run`, Docker through `docker` — so tests point it at a fixture host.
 * A few ms to a few seconds (the GPU probe); never builds or starts anything.
 */
export async function gatherGpuFindings(
  w: GpuWants,
  o: {
    docker: Dockerode | null;
    root?: string;
    run?: CommandRunner;
    probePath?: string;
    probeExists?: (p: string) => boolean;
    ortDir?: string;
    /** Where the CUDA provider and its libraries are looked for (default: defaultGpuSearchDirs). */
    searchDirs?: string[];
    /** Also read the container side when no docker platform asks (bench doctor). */
    withDocker?: boolean;
  },
): Promise<GpuFindings> {
  const run = o.run ?? runHostCommand;
  const root = o.root ?? '/';
  const host = await detectGpuHost({ root, run, probePath: o.probePath, probeExists: o.probeExists });
  const wantDocker = o.withDocker ?? w.containers.length > 0;
  const docker = wantDocker ? await detectDockerGpuHost(o.docker ? await dockerInfoForGpu(o.docker) : null, { root, run }) : null;
  const ortDir = o.ortDir ?? ortNodeDir();
  const version = ((JSON.parse(await readFile(join(ortDir, 'package.json'), 'utf8').catch(() => '{}')) as { version?: string }).version) ?? 'unknown';
  const libs = await locateCudaProvider(o.searchDirs ?? defaultGpuSearchDirs(w.providersDir, join(ortDir, ORT_NATIVE_DIR)), version);
  const vfio = new Map<number, Awaited<ReturnType<typeof readVfioHostState>>>();
  for (const v of w.vms) if (v.addresses.length) vfio.set(v.index, await readVfioHostState(v.addresses, root));
  const guestDriver = w.vms.length ? await checkGuestDriver(w.guestDriverDir, null) : null;
  return { host, docker, libs, vfio, guestDriver };
}
