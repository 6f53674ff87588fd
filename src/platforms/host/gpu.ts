import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GpuFacts {
  /** nvidia-smi found and listed at least one GPU. */
  present: boolean;
  gpus: string[];
  nvidiaSmi: boolean;
  /** Number of IOMMU groups (VFIO passthrough needs them); 0 when the IOMMU is off. */
  iommuGroups: number;
  detail: string;
}

/** What the host offers for GPU work (read-only probes, a few ms each). */
export async function detectGpu(): Promise<GpuFacts> {
  let gpus: string[] = [];
  let nvidiaSmi = false;
  let detail = 'nvidia-smi not found';
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 5_000 });
    nvidiaSmi = true;
    gpus = stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    detail = gpus.length ? `${gpus.length} GPU(s): ${gpus.join(', ')}` : 'nvidia-smi found no GPU';
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') {
      nvidiaSmi = true;
      detail = `nvidia-smi failed: ${e.message.split('\n')[0]}`;
    }
  }
  let iommuGroups = 0;
  try {
    iommuGroups = (await readdir('/sys/kernel/iommu_groups')).length;
  } catch {
    // no IOMMU
  }
  return { present: gpus.length > 0, gpus, nvidiaSmi, iommuGroups, detail };
}
