/**
 * The scenario keys of GPU inference (workload.device: gpu), kept together:
 *
 *   workload.fallback          cpu — only when written: without a usable GPU run on CPU and say so on every sample
 *   workload.gpu.providers     directory with ONNX Runtime's CUDA provider (and the CUDA/cuDNN libraries it needs)
 *   workload.gpu.guest_driver  directory with the NVIDIA driver for the VM image (modules for its kernel, libraries, nvidia-smi)
 *   platforms[].gpus           docker: all (default) or GPU indexes/UUIDs
 *   platforms[].vfio           qemu: PCI addresses passed through with vfio-pci (q35 machine, KVM)
 *   platforms[].pci            vagrant: PCI addresses passed through (libvirt.pci)
 *   measurements.gpu           GPU memory and utilisation per instance, throughput/latency per batch size,
 *                              the cold start split into CUDA context, model upload and first inference
 *
 * plus gpuSemanticIssues(), the rules that tie them to workload.device.
 */
import { z } from 'zod';
import { describeValue, durationSchema } from './units.js';

const PCI_RE = /^[0-9a-f]{4,5}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;
const PCI_EXPECTED = 'expected a PCI address as sysfs writes it, domain:bus:device.function in lower-case hex (e.g. "0000:65:00.0"; `bench doctor` lists the NVIDIA GPUs)';
const pciAddress = z
  .string({ error: (iss) => `${PCI_EXPECTED}, got ${describeValue(iss.input)}` })
  .regex(PCI_RE, { error: (iss) => `${PCI_EXPECTED}, got ${describeValue(iss.input)}` });

export const pciAddressList = z.array(pciAddress).min(1);

const GPU_ID_EXPECTED = 'expected "all" or a list of GPU indexes or UUIDs as nvidia-smi prints them (e.g. [0] or ["GPU-5f0c…"])';
const gpuId = z
  .union([z.number().int().min(0).transform(String), z.string().regex(/^([0-9]+|(GPU|MIG)-[0-9A-Za-z-]+)$/)], { error: (iss) => `${GPU_ID_EXPECTED}, got ${describeValue(iss.input)}` });

export const dockerGpusSchema = z
  .union([z.literal('all'), z.array(gpuId).min(1)], { error: (iss) => `${GPU_ID_EXPECTED}, got ${describeValue(iss.input)}` })
  .optional()
  .meta({ description: 'GPUs the container gets with workload.device: gpu: "all" (default) or GPU indexes/UUIDs (Docker DeviceRequests, or the device nodes and driver libraries passed explicitly when there is no NVIDIA container toolkit).' });

export const qemuVfioSchema = pciAddressList.optional().meta({
  description: 'PCI devices passed through to the VM with vfio-pci, e.g. ["0000:65:00.0"] (needed with workload.device: gpu; machine q35, KVM; `bench doctor` checks IOMMU and the vfio-pci binding).',
});

export const vagrantPciSchema = pciAddressList.optional().meta({
  description: "PCI devices passed through to the VM with libvirt's hostdev (vagrant-libvirt libvirt.pci), e.g. [\"0000:65:00.0\"] (needed with workload.device: gpu).",
});

export const fallbackSchema = z.enum(['cpu']).optional().meta({
  description: 'Only when written: with device: gpu and no usable GPU, run on CPU instead of failing; every sample records the device that ran.',
});

export const workloadGpuSchema = z
  .strictObject({
    providers: z.string().min(1).optional().meta({
      description:
        "Directory with ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so) and the CUDA 12 / cuDNN 9 libraries it needs, relative to this file (default: onnxruntime-node's own bin directory, filled by ONNXRUNTIME_NODE_INSTALL=cuda12).",
    }),
    guest_driver: z.string().min(1).optional().meta({
      description: 'Directory with the NVIDIA driver for the VM image: modules/ (nvidia.ko, nvidia-uvm.ko built for the guest kernel), lib/ (libcuda.so.1 …), bin/nvidia-smi; relative to this file. Needed by qemu/vagrant platforms with device: gpu.',
    }),
  })
  .optional()
  .meta({ description: 'Where the GPU pieces come from (device: gpu).' });

export const gpuMeasurementSchema = z
  .strictObject({
    repetitions: z.number().int().min(1).default(1).meta({ description: 'Rounds per platform (each reads its instance\'s cold-start split once).' }),
    batch_sizes: z.array(z.number().int().min(1).max(256)).min(1).default([1, 8, 32]).meta({ description: 'Inputs per request, one load level each.' }),
    requests: z.number().int().min(1).max(100_000).default(100).meta({ description: 'Measured requests per batch size, sequential on one connection.' }),
    warmup: z.number().int().min(0).max(10_000).default(10).meta({ description: 'Unmeasured requests per batch size first.' }),
    timeout: durationSchema({ positive: true }).prefault('30s').meta({ description: 'Per-request timeout.' }),
    sample_interval: durationSchema({ positive: true }).prefault('500ms').meta({ description: 'How often GPU memory and utilisation are read while a batch size runs.' }),
  })
  .meta({
    description:
      'GPU inference (device: gpu): GPU memory used and utilisation per instance, throughput and latency at several batch sizes, and the cold start split into CUDA context creation, model upload and first inference.',
  });

export interface GpuIssue {
  path: (string | number)[];
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ATTACH_KEY: Record<string, string> = { docker: 'gpus', qemu: 'vfio', vagrant: 'pci' };

/** Rules tying the GPU keys to workload.device (raw data, like every semantic rule). */
export function gpuSemanticIssues(raw: Record<string, unknown>): GpuIssue[] {
  const issues: GpuIssue[] = [];
  const workload = isRecord(raw.workload) ? raw.workload : {};
  const gpu = workload.device === 'gpu';
  if (!gpu) {
    for (const key of ['fallback', 'gpu']) {
      if (workload[key] !== undefined) issues.push({ path: ['workload', key], message: `expected workload.device: gpu with workload.${key} (it applies to GPU inference only), got device ${describeValue(workload.device ?? 'cpu')}` });
    }
    if (isRecord(raw.measurements) && raw.measurements.gpu !== undefined) {
      issues.push({ path: ['measurements', 'gpu'], message: `expected workload.device: gpu with measurements.gpu, got device ${describeValue(workload.device ?? 'cpu')} (scenarios/cpu-resnet.yaml measures CPU inference)` });
    }
  }
  const platforms = Array.isArray(raw.platforms) ? raw.platforms : [];
  platforms.forEach((p: unknown, i) => {
    if (!isRecord(p) || typeof p.kind !== 'string') return;
    const key = ATTACH_KEY[p.kind];
    if (key === undefined) return;
    if (!gpu) {
      if (p[key] !== undefined) issues.push({ path: ['platforms', i, key], message: `expected workload.device: gpu with ${key} (a GPU attached to CPU inference measures nothing of it), got device ${describeValue(workload.device ?? 'cpu')}` });
      return;
    }
    if (p.kind !== 'docker' && p[key] === undefined) {
      issues.push({
        path: ['platforms', i, key],
        message: `missing required key "${key}": with workload.device: gpu a ${p.kind} VM needs the PCI address(es) of the GPU to pass through, e.g. ${key}: ["0000:65:00.0"] (\`bench doctor\` lists this host's NVIDIA GPUs)`,
      });
    }
    if (p.kind === 'qemu' && p.vfio !== undefined) {
      if (p.machine === 'microvm' || p.machine === 'pc') {
        issues.push({ path: ['platforms', i, 'machine'], message: `expected machine q35 (or auto, which picks q35) with vfio: the GPU goes on a PCI Express root port, got ${describeValue(p.machine)}` });
      }
      if (p.accel === 'tcg') {
        issues.push({ path: ['platforms', i, 'accel'], message: 'expected accel kvm (or auto) with vfio: device passthrough needs KVM, got "tcg"' });
      }
    }
  });
  return issues;
}
