import { join } from 'node:path';
import { BenchError } from '../../errors.js';
import type { GpuArtifactInfo } from '../artifact.js';
import { defaultGpuSearchDirs, describeMissing, locateCudaProvider, type GpuLibraryPlan } from '../gpu-libraries.js';
import { gpuInitScript } from './rootfs/gpu-init.js';
import { ORT_NATIVE_DIR, type RuntimeFile } from './rootfs/ort-files.js';
import { checkGuestDriver, type GuestDriverCheck } from './vm/guest-driver.js';

/**
 * What makes the GPU artifact different from the CPU one: ONNX Runtime's CUDA
 * provider with the CUDA/cuDNN libraries it needs (next to
 * libonnxruntime.so.1, where ONNX Runtime loads providers from), the guest
 * NVIDIA driver when a VM will drive the GPU, and the GPU init wrapper. All of
 * it is hashed into the artifact id, so a GPU artifact never shadows a CPU one
 * (whose id does not change).
 */

export interface GpuArtifactOptions {
  /** workload.gpu.providers (default: onnxruntime-node's bin directory). */
  providersDir?: string;
  /** A qemu/vagrant platform will pass a GPU through: the image needs the guest driver. */
  needsGuestDriver: boolean;
  guestDriverDir?: string;
  /** fallback: cpu — missing pieces are recorded, not fatal (the server then falls back). */
  allowMissing: boolean;
  /** Where the provider and its libraries are looked for (default: defaultGpuSearchDirs). */
  searchDirs?: string[];
}

export interface GpuArtifactPlan {
  files: RuntimeFile[];
  /** Hashed into the artifact id (file hashes are added by the caller). */
  inputs: Record<string, unknown>;
  info: GpuArtifactInfo;
}

/** Every problem as one line each, for the error and for the artifact's record. */
export function gpuArtifactProblems(libs: GpuLibraryPlan, driver: GuestDriverCheck | null): string[] {
  return [...libs.missing.map(describeMissing), ...(driver?.problems ?? [])];
}

export async function planGpuArtifact(o: GpuArtifactOptions, ort: { nodeDir: string; version: string }, kernelRelease: string | null): Promise<GpuArtifactPlan> {
  const libs = await locateCudaProvider(o.searchDirs ?? defaultGpuSearchDirs(o.providersDir, join(ort.nodeDir, ORT_NATIVE_DIR)), ort.version);
  const driver = o.needsGuestDriver ? await checkGuestDriver(o.guestDriverDir, kernelRelease) : null;
  const problems = gpuArtifactProblems(libs, driver);
  if (problems.length && !o.allowMissing) {
    throw new BenchError('unsupported', `the GPU artifact cannot be built:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'scenarios/cpu-resnet.yaml runs the same workload on CPU; fallback: cpu builds and runs this one on CPU and records it; `bench doctor` shows the same checks',
    });
  }
  // A partial set of CUDA libraries is no use to anyone: carry all of them or none.
  const carryLibs = libs.missing.length === 0;
  const carryDriver = driver !== null && driver.problems.length === 0;
  const files = [...(carryLibs ? libs.files : []), ...(carryDriver ? driver.files : [])];
  return {
    files,
    inputs: {
      libraries: carryLibs ? libs.files.map((f) => f.dest) : [],
      guestDriver: carryDriver ? { version: driver.driverVersion, builtFor: driver.builtFor } : null,
      init: gpuInitScript(),
    },
    info: {
      providerLibraries: carryLibs ? libs.files.map((f) => f.name) : [],
      fromDriver: libs.fromDriver,
      guestDriver: carryDriver ? { version: driver.driverVersion, builtFor: driver.builtFor } : null,
      missing: problems,
    },
  };
}
