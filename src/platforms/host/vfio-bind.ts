import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../errors.js';
import type { CommandRunner } from './command-runner.js';
import { isBridge, readPciDevice, type IommuState, type PciDevice } from './pci-sysfs.js';

/**
 * What VFIO passthrough of a PCI device needs from the host, as the exact
 * commands to run (printed by `bench doctor`), and the one place that carries
 * them out — only when asked explicitly (`bench doctor --bind-vfio ADDR`):
 * rebinding a GPU takes it away from the host's driver and every process
 * using it.
 */

/** The functions of the device's IOMMU group that still need binding: not vfio-pci's, bound to something, not a bridge. */
export function functionsToBind(device: PciDevice): PciDevice['groupMembers'] {
  const members = device.groupMembers.length ? device.groupMembers : [device];
  return members.filter((f) => f.driver !== 'vfio-pci' && !isBridge(f) && (f.driver !== null || f.address === device.address));
}

/** Shell commands (as root) that hand every function of the device's group to vfio-pci, in order. */
export function vfioBindCommands(device: PciDevice): string[] {
  const cmds = ['modprobe vfio-pci'];
  for (const f of functionsToBind(device)) {
    if (f.driver) cmds.push(`echo ${f.address} > /sys/bus/pci/devices/${f.address}/driver/unbind`);
    cmds.push(`echo vfio-pci > /sys/bus/pci/devices/${f.address}/driver_override`);
    cmds.push(`echo ${f.address} > /sys/bus/pci/drivers_probe`);
  }
  return cmds;
}

/** …and the commands that give them back to their host drivers. */
export function vfioUnbindCommands(device: PciDevice): string[] {
  const members = device.groupMembers.length ? device.groupMembers : [device];
  return members.filter((f) => !isBridge(f)).flatMap((f) => [
    `echo > /sys/bus/pci/devices/${f.address}/driver_override`,
    `echo ${f.address} > /sys/bus/pci/devices/${f.address}/driver/unbind`,
    `echo ${f.address} > /sys/bus/pci/drivers_probe`,
  ]);
}

/** Kernel command-line switches that turn the IOMMU on (plus iommu=pt: no translation for host devices). */
export function iommuCmdlineFlags(state: Pick<IommuState, 'cpuVendor'>): string {
  return state.cpuVendor === 'amd' ? 'amd_iommu=on iommu=pt' : state.cpuVendor === 'intel' ? 'intel_iommu=on iommu=pt' : 'intel_iommu=on iommu=pt (Intel) or amd_iommu=on iommu=pt (AMD)';
}

/** The commands (as root) that turn the IOMMU on at the next boot of a GRUB-booted Debian/Ubuntu host. */
export function iommuEnableCommands(state: Pick<IommuState, 'cpuVendor'>): string[] {
  const flags = state.cpuVendor === 'unknown' ? 'intel_iommu=on iommu=pt' : iommuCmdlineFlags(state);
  return [`sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="/&${flags} /' /etc/default/grub`, 'update-grub', 'reboot'];
}

/** IOMMU off: what to do, firmware first, then the commands. */
export function iommuEnableAdvice(state: Pick<IommuState, 'cpuVendor'>): string {
  return `enable VT-d (Intel) / AMD-Vi (AMD) in the firmware setup, then boot with ${iommuCmdlineFlags(state)}; as root: ${iommuEnableCommands(state).join(' && ')}`;
}

/**
 * Binds every function of the device's IOMMU group to vfio-pci (the writes
 * vfioBindCommands prints), then reads the binding back. Only for an
 * explicit request; refuses a device that is not there or has no IOMMU group.
 */
export async function bindToVfio(
  root: string,
  address: string,
  run: CommandRunner,
  /** How a sysfs file is written (tests pass a fake kernel that also rebinds). */
  writeSysfs: (path: string, value: string) => Promise<void> = (path, value) => writeFile(path, `${value}\n`),
): Promise<{ device: PciDevice; done: string[] }> {
  const before = await readPciDevice(root, address);
  if (!before.exists) throw new BenchError('input', `no PCI device ${address} (${join(root, 'sys/bus/pci/devices', address)} does not exist)`, { hint: '`bench doctor` lists the NVIDIA GPUs of this host' });
  if (before.iommuGroup === null) throw new BenchError('unsupported', `${address} has no IOMMU group: the IOMMU is off`, { hint: 'turn it on first (`bench doctor` prints how)' });
  const done: string[] = [];
  const modprobe = await run('modprobe', ['vfio-pci'], { timeoutMs: 30_000 });
  if (modprobe.exitCode !== 0 && !(await readFile(join(root, 'sys/bus/pci/drivers/vfio-pci/bind'), 'utf8').then(() => true, () => false))) {
    throw new BenchError('unsupported', `modprobe vfio-pci failed: ${(modprobe.stderr || modprobe.stdout).trim() || (modprobe.notFound ? 'modprobe not found' : `exit ${modprobe.exitCode}`)}`);
  }
  done.push('modprobe vfio-pci');
  const write = async (path: string, value: string) => {
    await writeSysfs(join(root, path), value);
    done.push(`echo ${value} > /${path}`);
  };
  for (const f of functionsToBind(before)) {
    if (f.driver) await write(`sys/bus/pci/devices/${f.address}/driver/unbind`, f.address);
    await write(`sys/bus/pci/devices/${f.address}/driver_override`, 'vfio-pci');
    await write('sys/bus/pci/drivers_probe', f.address);
  }
  const after = await readPciDevice(root, address);
  const left = functionsToBind(after);
  if (left.length) {
    throw new BenchError('infrastructure', `after ${done.join('; ')}: ${left.map((f) => `${f.address} is still ${f.driver ?? 'unbound'}`).join(', ')} (not vfio-pci)`, {
      hint: 'the host driver may hold the device (stop what uses the GPU: nvidia-persistenced, display managers), then retry',
    });
  }
  return { device: after, done };
}
