import type { CommandRunner } from './command-runner.js';

/**
 * nvidia-smi's machine-readable queries, and their parsers (pure): the GPUs
 * the host driver sees, and the processes holding GPU memory. Both use
 * `--format=csv,noheader,nounits`: one line per row, fields separated by
 * ", ", memory in MiB, utilisation in %, "[N/A]" / "[Not Supported]" where
 * a field has no value.
 */

export const GPU_QUERY_FIELDS = ['index', 'uuid', 'name', 'pci.bus_id', 'driver_version', 'memory.total', 'memory.used', 'utilization.gpu'] as const;
export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'] as const;
export const APPS_QUERY_FIELDS = ['pid', 'gpu_uuid', 'used_memory'] as const;
export const APPS_QUERY_ARGS = [`--query-compute-apps=${APPS_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'] as const;

export interface NvidiaGpu {
  index: number;
  uuid: string;
  name: string;
  /** PCI address as sysfs writes it (0000:19:00.0); nvidia-smi prints an 8-digit domain. */
  pciAddress: string;
  driverVersion: string;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  utilizationPct: number | null;
}

export interface ComputeApp {
  pid: number;
  gpuUuid: string;
  usedMemoryMiB: number | null;
}

/** What asking nvidia-smi gave: the GPUs, or why there are none. */
export type NvidiaSmiResult =
  | { ok: true; gpus: NvidiaGpu[] }
  | { ok: false; reason: 'not-installed' | 'no-driver' | 'no-device' | 'failed'; detail: string };

/** A field with no value ("[N/A]", "[Not Supported]", "N/A", empty) as null, else a number. */
function num(field: string | undefined): number | null {
  const t = (field ?? '').trim();
  if (t === '' || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** nvidia-smi's 00000000:19:00.0 → sysfs's 0000:19:00.0 (lower case). */
export function normalizePciAddress(text: string): string {
  const m = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(text.trim());
  if (!m) return text.trim().toLowerCase();
  // sysfs prints the domain with at least 4 hex digits (more for VMD domains such as 10000).
  const domain = parseInt(m[1] ?? '0', 16).toString(16).padStart(4, '0');
  return `${domain}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]}`;
}

function rows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^no running (compute )?processes found/i.test(l))
    .map((l) => l.split(/\s*,\s*/));
}

/** Parses `nvidia-smi` GPU_QUERY_ARGS output; rows that do not have every field are skipped. */
export function parseGpuQuery(text: string): NvidiaGpu[] {
  const out: NvidiaGpu[] = [];
  for (const f of rows(text)) {
    if (f.length < GPU_QUERY_FIELDS.length) continue;
    const index = num(f[0]);
    if (index === null) continue;
    out.push({
      index,
      uuid: f[1]!,
      name: f[2]!,
      pciAddress: normalizePciAddress(f[3]!),
      driverVersion: f[4]!,
      memoryTotalMiB: num(f[5]),
      memoryUsedMiB: num(f[6]),
      utilizationPct: num(f[7]),
    });
  }
  return out;
}

/** Parses `nvidia-smi` APPS_QUERY_ARGS output (empty when no process holds GPU memory). */
export function parseComputeApps(text: string): ComputeApp[] {
  const out: ComputeApp[] = [];
  for (const f of rows(text)) {
    const pid = num(f[0]);
    if (pid === null || f.length < APPS_QUERY_FIELDS.length) continue;
    out.push({ pid, gpuUuid: f[1]!, usedMemoryMiB: num(f[2]) });
  }
  return out;
}

/**
 * nvidia-smi's exit codes (its man page): 6 no devices were found, 9 the
 * driver is not loaded / cannot be reached; any other failure is reported
 * with the first line it printed.
 */
export async function queryGpus(run: CommandRunner, bin = 'nvidia-smi'): Promise<NvidiaSmiResult> {
  const r = await run(bin, GPU_QUERY_ARGS);
  if (r.notFound) return { ok: false, reason: 'not-installed', detail: 'nvidia-smi not found (no NVIDIA driver installed)' };
  const first = (r.stdout.trim() || r.stderr.trim()).split('\n')[0]?.trim() ?? '';
  if (r.exitCode === 0) {
    const gpus = parseGpuQuery(r.stdout);
    return gpus.length ? { ok: true, gpus } : { ok: false, reason: 'no-device', detail: 'nvidia-smi lists no GPU' };
  }
  if (r.exitCode === 6) return { ok: false, reason: 'no-device', detail: `nvidia-smi: ${first || 'no devices were found'}` };
  if (r.exitCode === 9) return { ok: false, reason: 'no-driver', detail: `nvidia-smi: ${first || 'the NVIDIA driver is not loaded'}` };
  return { ok: false, reason: 'failed', detail: `nvidia-smi failed (exit ${r.exitCode ?? (r.timedOut ? 'timeout' : '?')}): ${first}` };
}

/** The processes holding GPU memory, or null when nvidia-smi cannot say. */
export async function queryComputeApps(run: CommandRunner, bin = 'nvidia-smi'): Promise<ComputeApp[] | null> {
  const r = await run(bin, APPS_QUERY_ARGS);
  return r.exitCode === 0 ? parseComputeApps(r.stdout) : null;
}
