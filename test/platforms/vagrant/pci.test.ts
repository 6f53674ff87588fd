import { describe, expect, it } from 'vitest';
import { libvirtPciLines, resolvePciPassthrough } from '../../../src/platforms/vagrant/pci.js';
import { buildVagrantfile, type VagrantfileOptions } from '../../../src/platforms/vagrant/vagrantfile.js';
import type { VfioHostState } from '../../../src/platforms/qemu/vfio.js';

const o: VagrantfileOptions = {
  machineName: 'vmbench-r1-vm-0', boxName: 'vmbench-box-abc', uri: 'qemu:///system?socket=/x', storagePool: 'vmbench', driver: 'kvm',
  cpus: 2, memoryMiB: 4096, cmdline: 'console=ttyS0 vmbench.device=gpu', consoleLog: '/x/console.log', hostPort: 18080, guestPort: 8080,
  sshPort: 22022, tunnelLocalPort: 30001, tunnelRemotePort: 30002, privateKeyPath: '/x/id', bootTimeoutS: 300,
};

const vfioReady: VfioHostState = {
  iommu: { groups: 18, cmdlineFlags: ['intel_iommu=on'], cpuVendor: 'intel', vfioPciLoaded: true, vfioContainerNode: true },
  devices: [{ address: '0000:19:00.0', exists: true, vendorId: '0x10de', deviceId: '0x2335', classCode: '0x030200', driver: 'vfio-pci', iommuGroup: '17', groupMembers: [] }],
};

describe('Vagrant GPU passthrough (libvirt.pci)', () => {
  it('one vagrant-libvirt libvirt.pci line per device, hex fields as it wants them', () => {
    expect(libvirtPciLines(['0000:19:00.0', '10000:3b:1f.7'])).toEqual([
      "    libvirt.pci :domain => '0x0000', :bus => '0x19', :slot => '0x00', :function => '0x0'",
      "    libvirt.pci :domain => '0x10000', :bus => '0x3b', :slot => '0x1f', :function => '0x7'",
    ]);
  });

  it('the Vagrantfile carries them inside the libvirt provider block; a CPU one has none', () => {
    const gpu = buildVagrantfile({ ...o, pci: ['0000:19:00.0'] }).split('\n');
    const at = gpu.indexOf("    libvirt.pci :domain => '0x0000', :bus => '0x19', :slot => '0x00', :function => '0x0'");
    expect(at).toBeGreaterThan(gpu.indexOf('  config.vm.provider :libvirt do |libvirt|'));
    expect(gpu[at + 1]).toBe('  end');
    expect(buildVagrantfile(o)).not.toContain('libvirt.pci');
  });

  it('prepare: the same host checks as QEMU; libvirt\'s managed mode is recorded', async () => {
    const ok = await resolvePciPassthrough({ pci: ['0000:19:00.0'], fallback: false }, 'kvm', async () => vfioReady);
    expect(ok.pci).toEqual(['0000:19:00.0']);
    expect(ok.facts.gpuPassthroughDetail).toContain("managed='yes'");
    const bound = { ...vfioReady, devices: [{ ...vfioReady.devices[0]!, driver: 'nvidia' }] };
    await expect(resolvePciPassthrough({ pci: ['0000:19:00.0'], fallback: false }, 'kvm', async () => bound)).rejects.toThrow(/^vagrant: the GPU cannot be passed through: 0000:19:00\.0: IOMMU group 17/);
    expect((await resolvePciPassthrough({ pci: ['0000:19:00.0'], fallback: true }, 'kvm', async () => bound)).pci).toEqual([]);
    expect(await resolvePciPassthrough(undefined, 'tcg', async () => vfioReady)).toEqual({ pci: [], facts: {} });
  });
});
