import { BenchError } from '../../errors.js';
import { PCI_ADDRESS_RE } from '../host/pci-sysfs.js';
import type { PlatformFacts } from '../platform.js';
import { resolvePassthrough, type VfioHostState } from '../qemu/vfio.js';

/**
 * GPU passthrough to a Vagrant VM: vagrant-libvirt's `libvirt.pci` setting,
 * one per device (pure). vagrant-libvirt 0.11.2 writes these as
 * <hostdev mode='subsystem' type='pci' managed='yes'> (its domain.xml.erb),
 * so libvirt detaches the device from its host driver when the domain starts
 * and gives it back to that driver when the domain is destroyed: the
 * platform's prepare() therefore insists the whole IOMMU group is already on
 * vfio-pci (the same checks as the QEMU platform, qemu/vfio.ts) and records
 * that libvirt manages the device.
 *
 * The domain keeps libvirt's default machine type (pc): the Vagrantfile's
 * fixed NIC slots 0x1e/0x1f on bus 0 collide with q35's ICH9 functions
 * (00:1f.x), and a GPU works as a conventional PCI device there.
 */
export function libvirtPciLines(addresses: readonly string[]): string[] {
  return addresses.map((addr) => {
    if (!PCI_ADDRESS_RE.test(addr)) throw new BenchError('internal', `invalid PCI address ${JSON.stringify(addr)}`);
    const m = /^([0-9a-f]+):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(addr)!;
    return `    libvirt.pci :domain => '0x${m[1]!.padStart(4, '0')}', :bus => '0x${m[2]}', :slot => '0x${m[3]}', :function => '0x${m[4]}'`;
  });
}

/** What the run records about how libvirt holds the devices. */
export const LIBVIRT_PCI_MANAGED = "libvirt hostdev managed='yes' (vagrant-libvirt): libvirt detaches the device at vagrant up and re-attaches it to its host driver at destroy";

/**
 * prepare()'s GPU step: the QEMU platform's vfio checks (libvirt's managed
 * mode would otherwise rebind the device on its own); a failed one stops the
 * run unless fallback: cpu lets the VM run without the GPU.
 */
export async function resolvePciPassthrough(
  gpu: { pci: string[]; fallback: boolean } | undefined,
  accel: 'kvm' | 'tcg',
  host: (addresses: string[]) => Promise<VfioHostState>,
): Promise<{ pci: string[]; facts: PlatformFacts }> {
  if (!gpu) return { pci: [], facts: {} };
  const r = await resolvePassthrough({ addresses: gpu.pci, fallback: gpu.fallback }, accel, host, 'vagrant', 'libvirt.pci');
  const facts: PlatformFacts = { ...r.facts };
  if (r.addresses.length) facts.gpuPassthroughDetail = `${r.facts.gpuPassthroughDetail}; ${LIBVIRT_PCI_MANAGED}`;
  return { pci: r.addresses, facts };
}
