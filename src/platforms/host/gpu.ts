import { existsSync } from 'node:fs';
import { runHostCommand, type CommandRunner } from './command-runner.js';
import { gpuProbePath, runGpuProbe, type GpuProbeResult } from './gpu-probe.js';
import { findNvidiaDriverFiles, type NvidiaDriverFiles } from './nvidia-driver-files.js';
import { queryGpus, type NvidiaSmiResult } from './nvidia-smi.js';
import { listNvidiaGpus, readIommuState, type IommuState, type PciDevice } from './pci-sysfs.js';

/**
 * What the host offers for GPU work, every source at once (read-only, a few
 * ms each, the probe up to a few seconds): the driver's view (nvidia-smi),
 * the CUDA runtime's (the GPU probe), the PCI bus's (NVIDIA GPUs and the
 * driver holding each, for passthrough), the IOMMU, and the driver's device
 * nodes and libraries (for containers without the NVIDIA toolkit). The
 * decisions made from these are pure functions over this record.
 */
export interface GpuHostFacts {
  nvidiaSmi: NvidiaSmiResult;
  probe: GpuProbeResult;
  pciGpus: PciDevice[];
  iommu: IommuState;
  driverFiles: NvidiaDriverFiles;
}

export interface GpuHostSources {
  /** '/' on a host; a fixture tree in tests. */
  root?: string;
  run?: CommandRunner;
  probePath?: string;
  probeExists?: (path: string) => boolean;
}

export async function detectGpuHost(o: GpuHostSources = {}): Promise<GpuHostFacts> {
  const root = o.root ?? '/';
  const run = o.run ?? runHostCommand;
  const [nvidiaSmi, probe, pciGpus, iommu, driverFiles] = await Promise.all([
    queryGpus(run),
    runGpuProbe(run, o.probePath ?? gpuProbePath(), o.probeExists ?? existsSync),
    listNvidiaGpus(root),
    readIommuState(root),
    findNvidiaDriverFiles(root, run),
  ]);
  return { nvidiaSmi, probe, pciGpus, iommu, driverFiles };
}

/** A GPU CUDA can use here: nvidia-smi lists one, or the probe created a context on one. */
export function usableGpuPresent(f: Pick<GpuHostFacts, 'nvidiaSmi' | 'probe'>): boolean {
  return f.nvidiaSmi.ok || f.probe.status === 'ok';
}
