import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from './command-runner.js';

/**
 * The NVIDIA driver's pieces a container needs when no NVIDIA container
 * toolkit (runtime hook or CDI) hands them in: the device nodes and the
 * user-space driver libraries of the host, which must match its kernel
 * module exactly. Read under a root directory and through a command runner
 * (ldconfig -p), so fixtures can stand in for a GPU host.
 */

/** Nodes every CUDA process opens (per-GPU nodes /dev/nvidia<minor> come on top). */
export const CONTROL_NODES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools'] as const;
/** Without libcuda.so.1 nothing runs on the GPU. */
export const REQUIRED_DRIVER_LIBRARIES = ['libcuda.so.1'] as const;
/** nvidia-smi (NVML), PTX JIT and the NVVM compiler libcuda loads on demand. */
export const OPTIONAL_DRIVER_LIBRARIES = ['libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1', 'libnvidia-nvvm.so.4', 'libnvidia-gpucomp.so'] as const;

export interface DriverLibrary {
  soname: string;
  hostPath: string;
}

export interface NvidiaDriverFiles {
  /** /dev/nvidia<minor> per GPU, by PCI address (from /proc/driver/nvidia/gpus/<addr>/information). */
  gpuNodes: Array<{ pciAddress: string; minor: number; uuid: string | null; node: string; present: boolean }>;
  controlNodes: Array<{ node: string; present: boolean }>;
  libraries: DriverLibrary[];
  missingLibraries: string[];
}

/** "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1" lines of `ldconfig -p`, x86-64 only. */
export function parseLdconfigCache(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (!m || !m[2]!.includes('x86-64')) continue;
    if (!out.has(m[1]!)) out.set(m[1]!, m[3]!);
  }
  return out;
}

/** The driver's per-GPU information file: "Device Minor: 0", "GPU UUID: GPU-…". */
export function parseGpuInformation(text: string): { minor: number | null; uuid: string | null } {
  const minor = /^Device Minor:\s*(\d+)/m.exec(text)?.[1];
  const uuid = /^GPU UUID:\s*(\S+)/m.exec(text)?.[1];
  return { minor: minor === undefined ? null : Number(minor), uuid: uuid ?? null };
}

export async function findNvidiaDriverFiles(root: string, run: CommandRunner): Promise<NvidiaDriverFiles> {
  const devDir = join(root, 'dev');
  const dev = new Set(await readdir(devDir).catch(() => [] as string[]));
  const gpusDir = join(root, 'proc/driver/nvidia/gpus');
  const gpuNodes: NvidiaDriverFiles['gpuNodes'] = [];
  for (const addr of (await readdir(gpusDir).catch(() => [] as string[])).sort()) {
    const info = parseGpuInformation(await readFile(join(gpusDir, addr, 'information'), 'utf8').catch(() => ''));
    if (info.minor === null) continue;
    gpuNodes.push({ pciAddress: addr, minor: info.minor, uuid: info.uuid, node: `/dev/nvidia${info.minor}`, present: dev.has(`nvidia${info.minor}`) });
  }
  const controlNodes = CONTROL_NODES.map((n) => ({ node: `/dev/${n}`, present: dev.has(n) }));
  const ld = await run('ldconfig', ['-p']);
  const cache = ld.exitCode === 0 ? parseLdconfigCache(ld.stdout) : new Map<string, string>();
  const libraries: DriverLibrary[] = [];
  const missingLibraries: string[] = [];
  for (const soname of [...REQUIRED_DRIVER_LIBRARIES, ...OPTIONAL_DRIVER_LIBRARIES]) {
    // libnvidia-gpucomp carries the driver version in its soname (libnvidia-gpucomp.so.550.54.14).
    const hit = [...cache].find(([name]) => name === soname || (soname === 'libnvidia-gpucomp.so' && name.startsWith('libnvidia-gpucomp.so.')));
    if (hit) libraries.push({ soname: hit[0], hostPath: hit[1] });
    else if ((REQUIRED_DRIVER_LIBRARIES as readonly string[]).includes(soname)) missingLibraries.push(soname);
  }
  return { gpuNodes, controlNodes, libraries, missingLibraries };
}
