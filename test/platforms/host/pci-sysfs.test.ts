import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findNvidiaDriverFiles, parseLdconfigCache } from '../../../src/platforms/host/nvidia-driver-files.js';
import { listNvidiaGpus, readIommuState, readPciDevice } from '../../../src/platforms/host/pci-sysfs.js';
import { bindToVfio, functionsToBind, iommuEnableCommands, vfioBindCommands, vfioUnbindCommands } from '../../../src/platforms/host/vfio-bind.js';
import { fixtureHost, type FixtureHost } from './fixture-host.js';

const GPU = '0000:19:00.0';
let host: FixtureHost | undefined;
afterEach(async () => host?.cleanup());

describe('sysfs: IOMMU and the GPU\'s binding (SYNTHETIC fixture hosts)', () => {
  it('GPU held by nvidia, IOMMU on: its group, its bridge, what must move to vfio-pci', async () => {
    host = await fixtureHost('gpu-bound-nvidia');
    const iommu = await readIommuState(host.root);
    expect(iommu).toEqual({ groups: 18, cmdlineFlags: ['intel_iommu=on', 'iommu=pt'], cpuVendor: 'intel', vfioPciLoaded: false, vfioContainerNode: false });
    const d = await readPciDevice(host.root, GPU);
    expect(d).toMatchObject({ exists: true, vendorId: '0x10de', classCode: '0x030200', driver: 'nvidia', iommuGroup: '17' });
    expect(d.groupMembers.map((m) => [m.address, m.driver])).toEqual([['0000:18:00.0', 'pcieport'], [GPU, 'nvidia']]);
    expect(functionsToBind(d).map((f) => f.address)).toEqual([GPU]); // the bridge stays with pcieport
    expect(vfioBindCommands(d)).toEqual([
      'modprobe vfio-pci',
      `echo ${GPU} > /sys/bus/pci/devices/${GPU}/driver/unbind`,
      `echo vfio-pci > /sys/bus/pci/devices/${GPU}/driver_override`,
      `echo ${GPU} > /sys/bus/pci/drivers_probe`,
    ]);
    expect(vfioUnbindCommands(d)).toEqual([`echo > /sys/bus/pci/devices/${GPU}/driver_override`, `echo ${GPU} > /sys/bus/pci/devices/${GPU}/driver/unbind`, `echo ${GPU} > /sys/bus/pci/drivers_probe`]);
    expect((await listNvidiaGpus(host.root)).map((g) => g.address)).toEqual([GPU]);
  });

  it('GPU on vfio-pci: nothing left to bind', async () => {
    host = await fixtureHost('gpu-bound-vfio');
    const d = await readPciDevice(host.root, GPU);
    expect(d.driver).toBe('vfio-pci');
    expect(functionsToBind(d)).toEqual([]);
    expect(await readIommuState(host.root)).toMatchObject({ vfioPciLoaded: true, vfioContainerNode: true });
  });

  it('IOMMU off: no groups, no flags on the command line; the commands that turn it on', async () => {
    host = await fixtureHost('iommu-off');
    const iommu = await readIommuState(host.root);
    expect([iommu.groups, iommu.cmdlineFlags]).toEqual([0, []]);
    expect((await readPciDevice(host.root, GPU)).iommuGroup).toBeNull();
    expect(iommuEnableCommands(iommu)).toEqual([`sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="/&intel_iommu=on iommu=pt /' /etc/default/grub`, 'update-grub', 'reboot']);
  });

  it('no GPU: no NVIDIA device; a missing address reads as absent', async () => {
    host = await fixtureHost('no-gpu');
    expect(await listNvidiaGpus(host.root)).toEqual([]);
    expect((await readPciDevice(host.root, GPU)).exists).toBe(false);
    expect((await readIommuState(host.root)).cpuVendor).toBe('amd');
  });
});

describe('bindToVfio (only on an explicit request)', () => {
  it('writes unbind, driver_override, drivers_probe, and checks the kernel moved the device', async () => {
    host = await fixtureHost('gpu-bound-nvidia');
    const root = host.root;
    const writes: string[] = [];
    // A fake kernel: drivers_probe with a vfio-pci override rebinds the device.
    const kernel = async (path: string, value: string) => {
      writes.push(`${path.slice(root.length)} ← ${value}`);
      await writeFile(path, `${value}\n`);
      if (path.endsWith('drivers_probe')) {
        const dev = join(root, 'sys/bus/pci/devices', value);
        if ((await readFile(join(dev, 'driver_override'), 'utf8')).trim() === 'vfio-pci') {
          await rm(join(dev, 'driver'), { force: true });
          await symlink('../../../../bus/pci/drivers/vfio-pci', join(dev, 'driver'));
        }
      }
    };
    const r = await bindToVfio(root, GPU, async () => ({ exitCode: 0, stdout: '', stderr: '', notFound: false, timedOut: false }), kernel);
    expect(writes).toEqual([`/sys/bus/pci/devices/${GPU}/driver/unbind ← ${GPU}`, `/sys/bus/pci/devices/${GPU}/driver_override ← vfio-pci`, `/sys/bus/pci/drivers_probe ← ${GPU}`]);
    expect(r.device.driver).toBe('vfio-pci');
    expect(r.done[0]).toBe('modprobe vfio-pci');
  });

  it('says so when the kernel kept the device on its driver, and refuses without an IOMMU', async () => {
    host = await fixtureHost('gpu-bound-nvidia');
    const ok = async () => ({ exitCode: 0, stdout: '', stderr: '', notFound: false, timedOut: false });
    await expect(bindToVfio(host.root, GPU, ok)).rejects.toThrow(/0000:19:00\.0 is still nvidia \(not vfio-pci\)/);
    await host.cleanup();
    host = await fixtureHost('iommu-off');
    await expect(bindToVfio(host.root, GPU, ok)).rejects.toThrow('0000:19:00.0 has no IOMMU group: the IOMMU is off');
    await expect(bindToVfio(host.root, '0000:99:00.0', ok)).rejects.toThrow(/no PCI device 0000:99:00\.0/);
  });
});

describe('driver files for a container without the NVIDIA toolkit', () => {
  it('device nodes by minor number and the driver libraries from ldconfig -p', async () => {
    host = await fixtureHost('gpu-bound-nvidia');
    const f = await findNvidiaDriverFiles(host.root, host.run);
    expect(f.gpuNodes).toEqual([{ pciAddress: GPU, minor: 0, uuid: 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b', node: '/dev/nvidia0', present: true }]);
    expect(f.controlNodes.every((n) => n.present)).toBe(true);
    expect(f.libraries.map((l) => `${l.soname} ${l.hostPath}`)).toEqual([
      'libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1',
      'libnvidia-ml.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1',
      'libnvidia-ptxjitcompiler.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.1',
      'libnvidia-nvvm.so.4 /usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.4',
      'libnvidia-gpucomp.so.570.124.06 /usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.570.124.06',
    ]);
    expect(f.missingLibraries).toEqual([]);
    expect(parseLdconfigCache('\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1\n').size).toBe(0); // 32-bit only
  });

  it('no GPU: no nodes, libcuda.so.1 missing', async () => {
    host = await fixtureHost('no-gpu');
    const f = await findNvidiaDriverFiles(host.root, host.run);
    expect([f.gpuNodes, f.controlNodes.some((n) => n.present), f.missingLibraries]).toEqual([[], false, ['libcuda.so.1']]);
  });
});
