import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../paths.js';
import type { CommandRunner } from './command-runner.js';
import { normalizePciAddress } from './nvidia-smi.js';

/**
 * The GPU probe (native/gpu-probe/gpu-probe.cu, built by
 * scripts/build-gpu-probe.sh): what the CUDA runtime itself sees — device
 * name, UUID, memory, and how long creating a context takes — as one JSON
 * object, with a distinct exit code per outcome. This module finds it, runs
 * it and parses what it printed; a probe that is not built is an answer too.
 */

export const PROBE_EXIT = { ok: 0, usage: 2, noDevice: 3, noDriver: 4, cudaError: 5 } as const;

export interface GpuProbeDevice {
  index: number;
  name: string;
  uuid: string;
  pciAddress: string;
  computeCapability: string;
  multiProcessors: number | null;
  totalMemoryBytes: number | null;
  freeMemoryBytes: number | null;
  /** cudaSetDevice + cudaFree(0): primary context creation, ms. */
  contextCreateMs: number | null;
  /** An empty kernel launched and synchronised, ms. */
  firstKernelMs: number | null;
  error: string | null;
}

export type GpuProbeStatus = 'ok' | 'no-device' | 'no-driver' | 'cuda-error' | 'not-built' | 'failed';

export interface GpuProbeResult {
  status: GpuProbeStatus;
  exitCode: number | null;
  /** "13.0" (what the probe was built with) / what the driver supports ("0.0": no driver). */
  cudaRuntime: string | null;
  cudaDriver: string | null;
  driverInitMs: number | null;
  devices: GpuProbeDevice[];
  /** One line for people. */
  detail: string;
}

/** Where the probe is: VMBENCH_GPU_PROBE, else dist/native/vmbench-gpu-probe in the project. */
export function gpuProbePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.VMBENCH_GPU_PROBE ?? join(projectRoot(), 'dist', 'native', 'vmbench-gpu-probe');
}

/** CUDA's integer version (13000) as "13.0". */
export function cudaVersionText(v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

function errorText(e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return null;
  const o = e as Record<string, unknown>;
  return `${str(o.api)}: ${str(o.name)} (${str(o.message)})`;
}

const STATUS_BY_EXIT: Record<number, GpuProbeStatus> = { 0: 'ok', 3: 'no-device', 4: 'no-driver', 5: 'cuda-error' };

/** Parses what the probe printed; anything that is not its JSON is a failed probe, with the text it printed. */
export function parseGpuProbeOutput(stdout: string, exitCode: number | null, stderr = ''): GpuProbeResult {
  let o: Record<string, unknown> | null = null;
  try {
    const v = JSON.parse(stdout.trim()) as unknown;
    if (typeof v === 'object' && v !== null && (v as Record<string, unknown>).probe === 'vmbench-gpu-probe') o = v as Record<string, unknown>;
  } catch {
    // not its JSON
  }
  if (!o) {
    const said = (stderr.trim() || stdout.trim()).split('\n')[0] ?? '';
    return { status: 'failed', exitCode, cudaRuntime: null, cudaDriver: null, driverInitMs: null, devices: [], detail: `GPU probe printed no result (exit ${exitCode ?? '?'})${said ? `: ${said}` : ''}` };
  }
  const devices: GpuProbeDevice[] = (Array.isArray(o.devices) ? o.devices : []).filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null).map((d) => ({
    index: numOrNull(d.index) ?? -1,
    name: str(d.name),
    uuid: str(d.uuid),
    pciAddress: normalizePciAddress(str(d.pciBusId)),
    computeCapability: str(d.computeCapability),
    multiProcessors: numOrNull(d.multiProcessors),
    totalMemoryBytes: numOrNull(d.totalMemoryBytes),
    freeMemoryBytes: numOrNull(d.freeMemoryBytes),
    contextCreateMs: numOrNull(d.contextCreateMs),
    firstKernelMs: numOrNull(d.firstKernelMs),
    error: errorText(d.error),
  }));
  const status = exitCode !== null ? (STATUS_BY_EXIT[exitCode] ?? 'failed') : 'failed';
  const cudaRuntime = cudaVersionText(o.cudaRuntimeVersion);
  const cudaDriver = cudaVersionText(o.cudaDriverVersion);
  const err = errorText(o.error);
  const detail =
    status === 'ok'
      ? `${devices.length} CUDA device(s): ${devices.map((d) => `${d.name} (${d.uuid}, ${d.pciAddress}, context ${d.contextCreateMs?.toFixed(1) ?? '?'} ms)`).join('; ')}`
      : status === 'no-device'
        ? `no CUDA device (driver supports CUDA ${cudaDriver ?? '?'}${err ? `; ${err}` : ''})`
        : status === 'no-driver'
          ? o.cudaDriverVersion === 0
            ? `no NVIDIA driver: libcuda.so.1 could not be loaded (${err ?? 'no detail'})`
            : `the NVIDIA driver supports CUDA ${cudaDriver ?? '?'}, older than the probe's runtime ${cudaRuntime ?? '?'}: rebuild the probe with an older CUDA toolkit or update the driver (${err ?? ''})`
          : `CUDA error: ${[err, ...devices.map((d) => d.error).filter(Boolean)].filter(Boolean).join('; ') || `exit ${exitCode}`}`;
  return { status, exitCode, cudaRuntime, cudaDriver, driverInitMs: numOrNull(o.driverInitMs), devices, detail };
}

/** Runs the probe (15 s at most: context creation on a big GPU can take seconds). */
export async function runGpuProbe(run: CommandRunner, path = gpuProbePath(), fileExists: (p: string) => boolean = existsSync): Promise<GpuProbeResult> {
  if (!fileExists(path)) {
    return { status: 'not-built', exitCode: null, cudaRuntime: null, cudaDriver: null, driverInitMs: null, devices: [], detail: `not built (${path}): scripts/build-gpu-probe.sh builds it where nvcc is installed` };
  }
  const r = await run(path, [], { timeoutMs: 15_000 });
  if (r.notFound) return { status: 'not-built', exitCode: null, cudaRuntime: null, cudaDriver: null, driverInitMs: null, devices: [], detail: `${path} cannot be run` };
  return parseGpuProbeOutput(r.stdout, r.exitCode, r.stderr);
}
