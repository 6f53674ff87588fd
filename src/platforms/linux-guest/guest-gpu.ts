import { BenchError } from '../../errors.js';
import { GUEST_DRIVER_DIR } from '../../workload/contract.js';
import { readingFromOwnGpus, type GpuReading } from '../gpu-reading.js';
import { GPU_QUERY_ARGS, parseGpuQuery } from '../host/nvidia-smi.js';
import type { SshSession } from './ssh.js';

/** nvidia-smi of the GPU image's guest driver (workload.gpu.guest_driver's bin/nvidia-smi). */
export const GUEST_NVIDIA_SMI = `${GUEST_DRIVER_DIR}/bin/nvidia-smi`;

/** The command run inside the guest: its nvidia-smi with the host's query (libraries from the guest driver). */
export function guestGpuCommand(): string {
  return `LD_LIBRARY_PATH=${GUEST_DRIVER_DIR}/lib ${GUEST_NVIDIA_SMI} ${GPU_QUERY_ARGS.join(' ')}`;
}

/**
 * A VM's GPU use, read inside it over SSH: the GPUs passed through are its
 * own, so their memory.used and utilization.gpu are the instance's. The
 * session is closed afterwards.
 */
export async function readGuestGpu(ssh: SshSession, timeoutMs = 10_000): Promise<GpuReading> {
  try {
    const r = await ssh.exec(guestGpuCommand(), { timeoutMs });
    if (r.code !== 0) {
      throw new BenchError('infrastructure', `nvidia-smi in the guest failed (exit ${r.code ?? '?'}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
    }
    return readingFromOwnGpus(parseGpuQuery(r.stdout), `guest ${GUEST_NVIDIA_SMI} --query-gpu over SSH`);
  } finally {
    ssh.dispose();
  }
}
