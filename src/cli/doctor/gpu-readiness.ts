import { chooseDockerGpuAccess, type DockerGpuHost } from '../../platforms/docker/gpu-options.js';
import { usableGpuPresent, type GpuHostFacts } from '../../platforms/host/gpu.js';
import { functionsToBind, iommuEnableAdvice, vfioBindCommands } from '../../platforms/host/vfio-bind.js';
import { vfioProblems, type VfioHostState } from '../../platforms/qemu/vfio.js';
import type { KeyPath } from '../../scenario/load.js';
import type { Scenario } from '../../scenario/schema.js';
import { describeMissing, type GpuLibraryPlan } from '../../workload/gpu-libraries.js';
import type { GuestDriverCheck } from '../../workload/build/vm/guest-driver.js';
import type { CheckResult } from './checks.js';

/**
 * Whether this host can run a GPU scenario, decided once (pure) for both
 * `bench run` (the preflight: each problem at the scenario key it concerns,
 * exit 3 within seconds, before anything is built) and `bench doctor` (the
 * same problems as checks, plus what the host offers). Gathering the facts
 * is gpu-gather.ts.
 */

export interface GpuWants {
  containers: Array<{ index: number; selection: 'all' | string[] }>;
  vms: Array<{ index: number; kind: 'qemu' | 'vagrant'; key: 'vfio' | 'pci'; addresses: string[]; accel: 'auto' | 'kvm' | 'tcg' }>;
  providersDir?: string;
  guestDriverDir?: string;
}

export interface GpuFindings {
  host: GpuHostFacts;
  /** How containers could reach a GPU (null when no docker platform asks, or the engine does not answer). */
  docker: DockerGpuHost | null;
  libs: GpuLibraryPlan;
  /** The IOMMU/PCI state of each VM platform's devices, by platform index. */
  vfio: Map<number, VfioHostState>;
  /** The guest driver directory checked (null when no VM asks for a GPU). */
  guestDriver: GuestDriverCheck | null;
}

export interface GpuProblem {
  path: KeyPath;
  message: string;
}

/** A problem placed in the scenario file: `at` is file:line:column, as bench run prints it. */
export type LocatedGpuProblem = GpuProblem & { at?: string };

export const CPU_POINTER = 'scenarios/cpu-resnet.yaml runs the same workload on CPU; workload.fallback: cpu runs this scenario on CPU and records that on every sample';

/** What a scenario with device: gpu asks of the host. */
export function gpuWantsOf(s: Scenario): GpuWants {
  const w: GpuWants = { containers: [], vms: [], providersDir: s.workload.gpu?.providers, guestDriverDir: s.workload.gpu?.guest_driver };
  s.platforms.forEach((p, index) => {
    if (p.kind === 'docker') w.containers.push({ index, selection: p.gpus ?? 'all' });
    else if (p.kind === 'qemu') w.vms.push({ index, kind: 'qemu', key: 'vfio', addresses: p.vfio ?? [], accel: p.accel });
    else if (p.kind === 'vagrant') w.vms.push({ index, kind: 'vagrant', key: 'pci', addresses: p.pci ?? [], accel: p.accel });
  });
  return w;
}

/** Every problem between this host and the GPU scenario, at its key; a summary first pointing at the CPU scenario. */
export function gpuProblems(f: GpuFindings, w: GpuWants): GpuProblem[] {
  const out: GpuProblem[] = [];
  if (w.containers.length && !usableGpuPresent(f.host)) {
    out.push({ path: ['workload', 'device'], message: `no usable NVIDIA GPU for a container: ${f.host.nvidiaSmi.ok ? 'nvidia-smi lists GPUs' : f.host.nvidiaSmi.detail}; GPU probe: ${f.host.probe.detail}` });
  }
  for (const c of w.containers) {
    const access = f.docker ? chooseDockerGpuAccess(f.docker, c.selection) : { mode: 'none' as const, reason: 'the Docker Engine does not answer' };
    if (access.mode === 'none') out.push({ path: ['platforms', c.index, 'gpus'], message: `no way to give the container a GPU: ${access.reason}` });
  }
  if (f.libs.missing.length) {
    const unset = w.providersDir === undefined ? ' (workload.gpu.providers is not set)' : '';
    out.push({ path: ['workload', 'gpu', 'providers'], message: `the CUDA execution provider is incomplete: ${f.libs.missing.length} of its libraries are in none of ${f.libs.searched.join(', ')}${unset}` });
  }
  for (const m of f.libs.missing) out.push({ path: ['workload', 'gpu', 'providers'], message: describeMissing(m) });
  for (const v of w.vms) {
    const state = f.vfio.get(v.index);
    if (!state || !v.addresses.length) continue;
    for (const p of vfioProblems(state, v.accel === 'tcg' ? 'tcg' : null)) out.push({ path: ['platforms', v.index, v.key], message: p });
  }
  if (w.vms.length && f.guestDriver) for (const p of f.guestDriver.problems) out.push({ path: ['workload', 'gpu', 'guest_driver'], message: p });
  if (out.length) out.unshift({ path: ['workload', 'device'], message: `device: gpu cannot run on this host (what it lacks is listed at each key); ${CPU_POINTER}` });
  return out;
}

const GPU = 'gpu';

/** `bench doctor`'s GPU section: what the host offers; with a GPU scenario, its problems as failures (the same words as `bench run`). */
export function gpuDoctorChecks(f: GpuFindings, scenarioProblems: LocatedGpuProblem[] | null): CheckResult[] {
  const out: CheckResult[] = [];
  const smi = f.host.nvidiaSmi;
  out.push(
    smi.ok
      ? { section: GPU, name: 'NVIDIA driver (nvidia-smi)', status: 'ok', detail: smi.gpus.map((g) => `${g.index}: ${g.name} ${g.uuid} ${g.pciAddress}, ${g.memoryTotalMiB ?? '?'} MiB, driver ${g.driverVersion}`).join('; ') }
      : { section: GPU, name: 'NVIDIA driver (nvidia-smi)', status: 'info', detail: smi.detail, fix: `GPU scenarios (device: gpu) in containers need an NVIDIA GPU and driver; ${CPU_POINTER}` },
  );
  const probe = f.host.probe;
  out.push({ section: GPU, name: 'GPU probe (CUDA runtime)', status: probe.status === 'ok' ? 'ok' : 'info', detail: `${probe.detail}${probe.cudaRuntime ? ` [probe built with CUDA ${probe.cudaRuntime}]` : ''}`, ...(probe.status === 'not-built' ? { fix: 'scripts/build-gpu-probe.sh (needs nvcc)' } : {}) });
  if (f.docker) {
    const access = chooseDockerGpuAccess(f.docker, 'all');
    out.push(
      access.mode === 'none'
        ? { section: GPU, name: 'container GPU access', status: 'info', detail: access.reason, fix: 'install nvidia-container-toolkit (DeviceRequests, like docker run --gpus all), or the NVIDIA driver (vmbench then passes its device nodes and libraries explicitly)' }
        : { section: GPU, name: 'container GPU access', status: 'ok', detail: `${access.mode}: ${access.via}` },
    );
  }
  // With a scenario, its own problems below say all of it, each with how to get it.
  const brief = scenarioProblems !== null;
  if (!f.libs.missing.length) {
    out.push({ section: GPU, name: 'ONNX Runtime CUDA provider', status: 'ok', detail: `${f.libs.files.length} libraries: ${f.libs.files.map((l) => l.name).join(', ')}; from the driver: ${f.libs.fromDriver.join(', ') || 'none'}` });
  } else if (!brief) {
    const names = f.libs.missing.map((m) => `${m.name}${m.otherVersion ? ` (found ${m.otherVersion})` : ''}`);
    out.push({
      section: GPU,
      name: 'ONNX Runtime CUDA provider',
      status: 'info',
      detail: `missing: ${names.join(', ')}`,
      fix: `searched ${f.libs.searched.join(', ')}; set workload.gpu.providers to a directory holding them (bench doctor --scenario scenarios/gpu-resnet.yaml says where each comes from)`,
    });
  }
  const iommu = f.host.iommu;
  out.push(
    iommu.groups > 0
      ? { section: GPU, name: 'IOMMU', status: 'ok', detail: `${iommu.groups} groups${iommu.cmdlineFlags.length ? ` (kernel command line: ${iommu.cmdlineFlags.join(' ')})` : ''}; vfio-pci ${iommu.vfioPciLoaded ? 'loaded' : 'not loaded'}` }
      : { section: GPU, name: 'IOMMU', status: 'info', detail: `off: /sys/kernel/iommu_groups is empty${iommu.cmdlineFlags.length ? ` although the kernel command line has ${iommu.cmdlineFlags.join(' ')}` : ''}; VFIO passthrough to VMs is not possible`, fix: iommuEnableAdvice(iommu) },
  );
  for (const d of f.host.pciGpus) {
    const left = functionsToBind(d);
    const name = `GPU ${d.address} for VM passthrough`;
    const where = `driver ${d.driver ?? 'none'}, IOMMU group ${d.iommuGroup ?? 'none'}${d.groupMembers.length > 1 ? ` (with ${d.groupMembers.filter((m) => m.address !== d.address).map((m) => `${m.address} ${m.driver ?? 'unbound'}`).join(', ')})` : ''}`;
    if (d.iommuGroup === null) out.push({ section: GPU, name, status: 'info', detail: `${where}: no IOMMU group (IOMMU off)` });
    else if (left.length === 0) out.push({ section: GPU, name, status: 'ok', detail: `${where}: every function on vfio-pci` });
    else out.push({ section: GPU, name, status: 'info', detail: `${where}: not on vfio-pci (vmbench never rebinds it by itself)`, fix: `as root: ${vfioBindCommands(d).join(' && ')} — or bench doctor --bind-vfio ${d.address}` });
  }
  if (f.guestDriver && !(brief && f.guestDriver.problems.length)) {
    out.push(
      f.guestDriver.problems.length
        ? { section: GPU, name: 'guest NVIDIA driver (GPU VM image)', status: 'info', detail: f.guestDriver.problems.join(' | ') }
        : { section: GPU, name: 'guest NVIDIA driver (GPU VM image)', status: 'ok', detail: `${f.guestDriver.dir}: driver ${f.guestDriver.driverVersion ?? '?'}, built for ${f.guestDriver.builtFor ?? '?'}` },
    );
  }
  for (const p of scenarioProblems ?? []) out.push({ section: GPU, name: `scenario ${p.at ? `${p.at} ` : ''}${formatKey(p.path)}`, status: 'fail', detail: p.message });
  return out;
}

function formatKey(path: KeyPath): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${k}`)).join('');
}
