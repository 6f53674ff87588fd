import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * What the host kernel says about IOMMU and PCI devices, read from sysfs and
 * procfs under a root directory ('/' on a host; a fixture tree in tests).
 * Read-only: binding a device to vfio-pci is vfio-bind.ts, and only on an
 * explicit request.
 *
 *   <root>/sys/kernel/iommu_groups/<n>/devices/<addr>   one directory per group (none: IOMMU off)
 *   <root>/sys/bus/pci/devices/<addr>/{vendor,device,class}
 *   <root>/sys/bus/pci/devices/<addr>/driver       → …/drivers/<name>   (absent: no driver bound)
 *   <root>/sys/bus/pci/devices/<addr>/iommu_group  → …/iommu_groups/<n>
 *   <root>/sys/bus/pci/drivers/vfio-pci            present once vfio-pci is loaded
 *   <root>/proc/cmdline, <root>/proc/cpuinfo
 */

export const NVIDIA_VENDOR_ID = '0x10de';
/** PCI address as sysfs names devices: domain:bus:device.function, hex, lower case. */
export const PCI_ADDRESS_RE = /^[0-9a-f]{4,5}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

export interface IommuState {
  /** Entries of /sys/kernel/iommu_groups: 0 when the IOMMU is off (or the firmware has it disabled). */
  groups: number;
  /** The IOMMU switches on the kernel command line (intel_iommu=…, amd_iommu=…, iommu=…). */
  cmdlineFlags: string[];
  cpuVendor: 'intel' | 'amd' | 'unknown';
  /** vfio-pci is loaded (its driver directory exists). */
  vfioPciLoaded: boolean;
  /** /dev/vfio/vfio exists (QEMU opens it). */
  vfioContainerNode: boolean;
}

export interface PciFunction {
  address: string;
  vendorId: string | null;
  deviceId: string | null;
  /** e.g. 0x030200 (3D controller), 0x030000 (VGA), 0x040300 (audio). */
  classCode: string | null;
  /** The bound driver (nvidia, nouveau, vfio-pci, snd_hda_intel …), null when none. */
  driver: string | null;
}

export interface PciDevice extends PciFunction {
  exists: boolean;
  /** Its IOMMU group number, null without an IOMMU. */
  iommuGroup: string | null;
  /** Every device of that group, itself included (all must be given to VFIO together). */
  groupMembers: PciFunction[];
}

const text = (p: string) => readFile(p, 'utf8').then((s) => s.trim(), () => null);
const exists = (p: string) => stat(p).then(() => true, () => false);
const linkName = (p: string) => readlink(p).then((t) => basename(t), () => null);

export async function readIommuState(root = '/'): Promise<IommuState> {
  const groups = (await readdir(join(root, 'sys/kernel/iommu_groups')).catch(() => [] as string[])).length;
  const cmdline = (await text(join(root, 'proc/cmdline'))) ?? '';
  const cmdlineFlags = cmdline.split(/\s+/).filter((w) => /^(intel_iommu|amd_iommu|iommu)=/.test(w));
  const cpuinfo = (await text(join(root, 'proc/cpuinfo'))) ?? '';
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(cpuinfo)?.[1];
  return {
    groups,
    cmdlineFlags,
    cpuVendor: vendor === 'GenuineIntel' ? 'intel' : vendor === 'AuthenticAMD' ? 'amd' : 'unknown',
    vfioPciLoaded: await exists(join(root, 'sys/bus/pci/drivers/vfio-pci')),
    vfioContainerNode: await exists(join(root, 'dev/vfio/vfio')),
  };
}

async function readFunction(root: string, address: string): Promise<PciFunction> {
  const dir = join(root, 'sys/bus/pci/devices', address);
  return {
    address,
    vendorId: await text(join(dir, 'vendor')),
    deviceId: await text(join(dir, 'device')),
    classCode: await text(join(dir, 'class')),
    driver: await linkName(join(dir, 'driver')),
  };
}

export async function readPciDevice(root: string, address: string): Promise<PciDevice> {
  const dir = join(root, 'sys/bus/pci/devices', address);
  if (!(await exists(dir))) {
    return { address, exists: false, vendorId: null, deviceId: null, classCode: null, driver: null, iommuGroup: null, groupMembers: [] };
  }
  const fn = await readFunction(root, address);
  const iommuGroup = await linkName(join(dir, 'iommu_group'));
  const members = iommuGroup === null ? [] : (await readdir(join(root, 'sys/kernel/iommu_groups', iommuGroup, 'devices')).catch(() => [] as string[])).sort();
  const groupMembers: PciFunction[] = [];
  for (const m of members) groupMembers.push(m === address ? fn : await readFunction(root, m));
  return { ...fn, exists: true, iommuGroup, groupMembers };
}

/** NVIDIA display/3D controllers (class 0x03xxxx) the host's PCI bus has, whatever driver holds them. */
export async function listNvidiaGpus(root = '/'): Promise<PciDevice[]> {
  const all = (await readdir(join(root, 'sys/bus/pci/devices')).catch(() => [] as string[])).sort();
  const out: PciDevice[] = [];
  for (const address of all) {
    const dir = join(root, 'sys/bus/pci/devices', address);
    if ((await text(join(dir, 'vendor'))) !== NVIDIA_VENDOR_ID) continue;
    if (!((await text(join(dir, 'class'))) ?? '').startsWith('0x03')) continue;
    out.push(await readPciDevice(root, address));
  }
  return out;
}

/** PCI bridges may stay with their host driver (pcieport); everything else in the group must be vfio-pci's or unbound. */
export function isBridge(fn: PciFunction): boolean {
  return (fn.classCode ?? '').startsWith('0x0604');
}
