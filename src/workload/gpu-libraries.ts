import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_ORT_LIB_DIR } from './contract.js';
import { readElfDynamic } from './elf-dynamic.js';

/**
 * The user-space pieces of ONNX Runtime's CUDA execution provider, found on
 * this host for the GPU artifact: the two provider libraries (ONNX Runtime
 * loads them from the directory of libonnxruntime.so.1, see
 * GUEST_ORT_LIB_DIR) and, read from their ELF dynamic sections, every CUDA
 * and cuDNN library they need, recursively. What cannot be found is named
 * with how to get it. The NVIDIA driver's own libraries (libcuda.so.1,
 * libnvidia-*) are never carried: they must match the kernel module of the
 * machine the instance runs on.
 *
 * onnxruntime-node 1.30's npm package ships no provider libraries; its
 * install script fetches them (CUDA 12, cuDNN 9) from NuGet with
 * ONNXRUNTIME_NODE_INSTALL=cuda12, or they can be copied from the NuGet
 * package into a directory named by workload.gpu.providers.
 */

export const ORT_CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/** ONNX Runtime's documented CUDA 12 build requirements: named when the provider library itself is missing (its needs cannot be read then). */
export const DOCUMENTED_CUDA_DEPENDENCIES = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9'] as const;

/** cuDNN 9 loads these itself (dlopen), so no DT_NEEDED names them. */
export const CUDNN9_SUBLIBRARIES = [
  'libcudnn_graph.so.9', 'libcudnn_ops.so.9', 'libcudnn_cnn.so.9', 'libcudnn_adv.so.9',
  'libcudnn_engines_precompiled.so.9', 'libcudnn_engines_runtime_compiled.so.9', 'libcudnn_heuristic.so.9',
] as const;

/** Present in every guest (the Debian base, or ONNX Runtime itself): never carried. */
export const BASE_LIBRARIES = new Set([
  'libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1', 'libutil.so.1', 'libstdc++.so.6', 'libgcc_s.so.1',
  'ld-linux-x86-64.so.2', 'libz.so.1', 'libonnxruntime.so.1',
]);

/** The NVIDIA driver's libraries: from the machine that runs the instance, never from the artifact. */
export function isDriverLibrary(name: string): boolean {
  return /^lib(cuda|nvidia-[a-z0-9-]+|nvcuvid|nvoptix)\.so/.test(name);
}

/** Where each missing library comes from (CUDA 12 builds of ONNX Runtime: packages of NVIDIA's apt repository, or NVIDIA's pip wheels). */
export function howToGet(name: string, ortVersion: string): string {
  const into = 'and copy it into the workload.gpu.providers directory';
  if ((ORT_CUDA_PROVIDER_LIBRARIES as readonly string[]).includes(name)) {
    return `from the Microsoft.ML.OnnxRuntime.Gpu.Linux ${ortVersion} NuGet package (runtimes/linux-x64/native/; the version must be onnxruntime-node's exactly) — what \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\` fetches on a machine that reaches api.nuget.org — ${into}`;
  }
  const table: Array<[RegExp, string]> = [
    [/^libcudart\.so\.12/, 'the CUDA 12 runtime: apt cuda-cudart-12-x (NVIDIA CUDA repository) or pip nvidia-cuda-runtime-cu12 (nvidia/cuda_runtime/lib)'],
    [/^libcublas(Lt)?\.so\.12/, 'cuBLAS for CUDA 12: apt libcublas-12-x or pip nvidia-cublas-cu12 (nvidia/cublas/lib)'],
    [/^libcufft\.so\.11/, 'cuFFT for CUDA 12: apt libcufft-12-x or pip nvidia-cufft-cu12 (nvidia/cufft/lib)'],
    [/^libcurand\.so\.10/, 'cuRAND for CUDA 12: apt libcurand-12-x or pip nvidia-curand-cu12 (nvidia/curand/lib)'],
    [/^libcudnn.*\.so\.9/, 'cuDNN 9 for CUDA 12: apt libcudnn9-cuda-12 or pip nvidia-cudnn-cu12 (nvidia/cudnn/lib; all libcudnn*.so.9)'],
    [/^libnvrtc.*\.so\.12/, 'NVRTC for CUDA 12: apt cuda-nvrtc-12-x or pip nvidia-cuda-nvrtc-cu12'],
    [/^libnvJitLink\.so\.12/, 'nvJitLink for CUDA 12: apt libnvjitlink-12-x or pip nvidia-nvjitlink-cu12'],
  ];
  const hit = table.find(([re]) => re.test(name));
  return `${hit ? hit[1] : 'the library it names (a CUDA 12 component)'}, ${into}`;
}

export interface GpuLibraryFile {
  /** Host path (a symlink is followed when copied). */
  src: string;
  /** The soname: the name the loader looks for. */
  name: string;
  /** Guest path. */
  dest: string;
}

export interface MissingGpuLibrary {
  name: string;
  /** Which library needs it ('ONNX Runtime' for the providers themselves). */
  neededBy: string;
  how: string;
  /** Another major version found, e.g. libcudart.so.13 in /usr/local/cuda/lib64 (CUDA 13; this provider wants 12). */
  otherVersion?: string;
}

export interface GpuLibraryPlan {
  files: GpuLibraryFile[];
  missing: MissingGpuLibrary[];
  /** Libraries left to the NVIDIA driver of the machine that runs it (libcuda.so.1 …). */
  fromDriver: string[];
  /** Directories searched, in order. */
  searched: string[];
}

/** Default search: the configured directory, onnxruntime-node's bin directory, the CUDA toolkit's, the system's. */
export function defaultGpuSearchDirs(providersDir: string | undefined, ortLibDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [providersDir, ortLibDir, env.CUDA_HOME && join(env.CUDA_HOME, 'lib64'), '/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu'];
  return [...new Set(dirs.filter((d): d is string => typeof d === 'string' && d !== ''))];
}

function findIn(dirs: readonly string[], name: string): string | null {
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  return null;
}

/** A same-named library of another major version in the search dirs (libcudart.so.13 for libcudart.so.12). */
function otherVersionOf(dirs: readonly string[], name: string): string | undefined {
  const m = /^(lib[^.]+\.so)\.(\d+)/.exec(name);
  if (!m) return undefined;
  for (const d of dirs) {
    const hit = readdirSyncSafe(d).find((f) => {
      const v = f.startsWith(`${m[1]}.`) ? /^(\d+)$/.exec(f.slice(m[1]!.length + 1)) : null;
      return v !== null && v[1] !== m[2];
    });
    if (hit) return `${hit} in ${d}`;
  }
  return undefined;
}

function readdirSyncSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/**
 * Resolves the provider libraries and everything they need in `searchDirs`
 * (defaultGpuSearchDirs), following DT_NEEDED breadth-first and adding
 * cuDNN 9's sub-libraries next to libcudnn.so.9.
 */
export async function locateCudaProvider(searchDirs: readonly string[], ortVersion: string): Promise<GpuLibraryPlan> {
  const plan: GpuLibraryPlan = { files: [], missing: [], fromDriver: [], searched: [...searchDirs] };
  const seen = new Set<string>();
  const queue: Array<{ name: string; neededBy: string }> = ORT_CUDA_PROVIDER_LIBRARIES.map((name) => ({ name, neededBy: 'ONNX Runtime (CUDA execution provider)' }));
  const missingProvider = ORT_CUDA_PROVIDER_LIBRARIES.some((n) => findIn(searchDirs, n) === null);
  if (missingProvider) {
    // Its needs cannot be read from a file that is not there: check the documented ones too.
    for (const name of DOCUMENTED_CUDA_DEPENDENCIES) queue.push({ name, neededBy: 'libonnxruntime_providers_cuda.so (documented)' });
  }
  while (queue.length) {
    const { name, neededBy } = queue.shift()!;
    if (seen.has(name) || BASE_LIBRARIES.has(name)) continue;
    seen.add(name);
    if (isDriverLibrary(name)) {
      plan.fromDriver.push(name);
      continue;
    }
    const src = findIn(searchDirs, name);
    if (!src) {
      const other = otherVersionOf(searchDirs, name);
      plan.missing.push({ name, neededBy, how: howToGet(name, ortVersion), ...(other ? { otherVersion: other } : {}) });
      continue;
    }
    plan.files.push({ src, name, dest: `${GUEST_ORT_LIB_DIR}/${name}` });
    const dyn = await readElfDynamic(src).catch(() => null);
    for (const n of dyn?.needed ?? []) queue.push({ name: n, neededBy: name });
    if (name === 'libcudnn.so.9') for (const sub of CUDNN9_SUBLIBRARIES) queue.push({ name: sub, neededBy: 'libcudnn.so.9 (loads it at run time)' });
  }
  return plan;
}

/** One line per missing library: what, who needs it, how to get it. */
export function describeMissing(m: MissingGpuLibrary): string {
  return `${m.name} (needed by ${m.neededBy}) is missing${m.otherVersion ? `; found ${m.otherVersion}, another major version` : ''}: get ${m.how}`;
}
