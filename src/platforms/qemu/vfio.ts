import { BenchError } from '../../errors.js';
import { PCI_ADDRESS_RE, readIommuState, readPciDevice, type IommuState, type PciDevice } from '../host/pci-sysfs.js';
import { functionsToBind, iommuEnableAdvice, vfioBindCommands } from '../host/vfio-bind.js';

// Not imported from args.ts, which imports this module.
type Machine = 'microvm' | 'pc' | 'q35';
type Accel = 'kvm' | 'tcg';

/**
 * GPU passthrough to a QEMU VM: the vfio-pci devices on the command line
 * (pure), and the host checks that must pass first (IOMMU on, the device in
 * an IOMMU group, every function of that group bound to vfio-pci). vmbench
 * never rebinds a device here: a failed check names the exact commands
 * (`bench doctor --bind-vfio ADDR` runs them when asked).
 */

/**
 * One PCI Express root port per device on q35's pcie.0, the device behind it:
 * NVIDIA's driver expects a PCIe link above its GPU, which a root-complex
 * integrated endpoint on pcie.0 does not have.
 */
export function vfioArgs(addresses: readonly string[], machine: Machine): string[] {
  if (!addresses.length) return [];
  if (machine !== 'q35') throw new BenchError('internal', `vfio-pci passthrough needs the q35 machine, not ${machine}`);
  const args: string[] = [];
  addresses.forEach((addr, i) => {
    if (!PCI_ADDRESS_RE.test(addr)) throw new BenchError('internal', `invalid PCI address ${JSON.stringify(addr)}`);
    args.push('-device', `pcie-root-port,id=vmbench_rp${i},bus=pcie.0,chassis=${i + 1},slot=${i + 1}`);
    args.push('-device', `vfio-pci,host=${addr},bus=vmbench_rp${i},id=vmbench_gpu${i}`);
  });
  return args;
}

/** auto → q35 when devices are passed through (microvm has no PCI, pc no PCIe). */
export function machineForVfio(requested: 'auto' | Machine, vfio: readonly string[]): 'auto' | Machine {
  return vfio.length && requested === 'auto' ? 'q35' : requested;
}

export interface VfioHostState {
  iommu: IommuState;
  devices: PciDevice[];
}

export async function readVfioHostState(addresses: readonly string[], root = '/'): Promise<VfioHostState> {
  return { iommu: await readIommuState(root), devices: await Promise.all(addresses.map((a) => readPciDevice(root, a))) };
}

/** Each problem standing between the host and passing these devices through, with the exact commands; [] when none. */
export function vfioProblems(state: VfioHostState, accel: Accel | null): string[] {
  const out: string[] = [];
  if (accel === 'tcg') out.push('device passthrough needs KVM, and this VM runs under TCG (KVM did not boot a guest here: see `bench doctor`)');
  if (state.iommu.groups === 0) {
    const on = state.iommu.cmdlineFlags.length ? ` (kernel command line has ${state.iommu.cmdlineFlags.join(' ')})` : '';
    out.push(`the IOMMU is off: /sys/kernel/iommu_groups is empty${on}; ${iommuEnableAdvice(state.iommu)}`);
  }
  for (const d of state.devices) {
    if (!d.exists) {
      out.push(`${d.address}: no such PCI device on this host (\`bench doctor\` lists the NVIDIA GPUs)`);
      continue;
    }
    if (d.iommuGroup === null) {
      if (state.iommu.groups > 0) out.push(`${d.address}: in no IOMMU group`);
      continue;
    }
    const left = functionsToBind(d);
    if (left.length) {
      const held = left.map((f) => `${f.address} (${f.driver ?? 'no driver'})`).join(', ');
      out.push(`${d.address}: IOMMU group ${d.iommuGroup} is not all vfio-pci's: ${held}; as root: ${vfioBindCommands(d).join(' && ')} (or: bench doctor --bind-vfio ${d.address})`);
    }
  }
  if (state.devices.some((d) => d.exists && d.iommuGroup !== null) && !state.iommu.vfioContainerNode) {
    out.push('/dev/vfio/vfio is missing: modprobe vfio-pci');
  }
  return out;
}

/**
 * A VM platform's prepare() GPU step (QEMU vfio, Vagrant libvirt.pci): the
 * checks above; a failed one stops the run unless fallback: cpu lets the VM
 * run without its GPU (facts say which, and why).
 */
export async function resolvePassthrough(
  gpu: { addresses: string[]; fallback: boolean },
  accel: Accel,
  host: (addresses: string[]) => Promise<VfioHostState>,
  kind: 'qemu' | 'vagrant',
  how: string,
): Promise<{ addresses: string[]; facts: Record<string, string> }> {
  const state = await host(gpu.addresses);
  const problems = vfioProblems(state, accel);
  if (problems.length && !gpu.fallback) throw vfioError(problems, kind);
  if (problems.length) return { addresses: [], facts: { gpuPassthrough: 'none', gpuPassthroughDetail: `${problems.join('; ')} (fallback: cpu)` } };
  const groups = state.devices.map((d) => `${d.address}=group ${d.iommuGroup}`).join(', ');
  return { addresses: gpu.addresses, facts: { gpuPassthrough: how, gpuPassthroughDetail: `${groups}; every function of each group on vfio-pci` } };
}

/** The checks as one error, for a platform's prepare(). */
export function vfioError(problems: string[], kind: 'qemu' | 'vagrant' = 'qemu'): BenchError {
  return new BenchError('unsupported', `${kind}: the GPU cannot be passed through: ${problems.join('; ')}`, {
    hint: 'fix the host as each problem says (`bench doctor` shows the same); scenarios/cpu-resnet.yaml runs the same workload on CPU; fallback: cpu runs this one on CPU and records it',
  });
}
