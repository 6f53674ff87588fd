import { afterEach, describe, expect, it } from 'vitest';
import { buildQemuArgs, type QemuArgsOptions } from '../../../src/platforms/qemu/args.js';
import { machineForVfio, readVfioHostState, vfioArgs, vfioError, vfioProblems } from '../../../src/platforms/qemu/vfio.js';
import { buildKernelCmdline } from '../../../src/platforms/linux-guest/kernel-cmdline.js';
import { fixtureHost, type FixtureHost } from '../host/fixture-host.js';

const GPU = '0000:19:00.0';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0qdNs47CH6fcK4hUGD0VlEjr1NptCzGlXZXIRaybsA vmbench-r1-i0';

const opts: QemuArgsOptions = {
  name: 'vmbench-r1-vm-gpu-0', machine: 'q35', accel: 'kvm', cpu: 'max', cpus: 2, memoryMiB: 4096,
  kernel: '/a/vmlinuz', initrd: '/a/initrd.img', cmdline: 'console=ttyS0', disk: '/run/i0/overlay.qcow2',
  consoleLog: '/run/i0/console.log', qmpSocket: '/run/i0/qmp.sock', pidfile: '/run/i0/qemu.pid',
  hostPort: 18080, guestPort: 8080, sshPort: 22022,
};

let host: FixtureHost | undefined;
afterEach(async () => host?.cleanup());

describe('QEMU arguments of a GPU VM', () => {
  it('exactly: q35 under KVM, the CPU VM\'s devices, then one PCIe root port per GPU with vfio-pci behind it', () => {
    expect(buildQemuArgs({ ...opts, vfio: [GPU, '0000:1a:00.0'] })).toEqual([
      '-name', 'vmbench-r1-vm-gpu-0',
      '-M', 'q35',
      '-accel', 'kvm',
      '-cpu', 'max',
      '-smp', '2', '-m', '4096',
      '-display', 'none', '-no-reboot', '-nodefaults', '-no-user-config',
      '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny', // least privilege holds for GPU VMs too (seccomp allows the VFIO ioctls)
      '-chardev', 'file,id=con0,path=/run/i0/console.log', '-serial', 'chardev:con0',
      '-qmp', 'unix:/run/i0/qmp.sock,server=on,wait=off',
      '-pidfile', '/run/i0/qemu.pid',
      '-kernel', '/a/vmlinuz', '-initrd', '/a/initrd.img', '-append', 'console=ttyS0',
      '-drive', 'file=/run/i0/overlay.qcow2,if=none,id=d0,format=qcow2', '-device', 'virtio-blk-pci,drive=d0',
      '-netdev', 'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:18080-:8080,hostfwd=tcp:127.0.0.1:22022-:22', '-device', 'virtio-net-pci,netdev=n0',
      '-device', 'pcie-root-port,id=vmbench_rp0,bus=pcie.0,chassis=1,slot=1',
      '-device', `vfio-pci,host=${GPU},bus=vmbench_rp0,id=vmbench_gpu0`,
      '-device', 'pcie-root-port,id=vmbench_rp1,bus=pcie.0,chassis=2,slot=2',
      '-device', 'vfio-pci,host=0000:1a:00.0,bus=vmbench_rp1,id=vmbench_gpu1',
    ]);
  });

  it('a CPU VM gets no vfio device; passthrough refuses any machine but q35; auto picks q35', () => {
    expect(buildQemuArgs(opts).join(' ')).not.toContain('vfio');
    expect(() => vfioArgs([GPU], 'pc')).toThrow('vfio-pci passthrough needs the q35 machine, not pc');
    expect(() => vfioArgs(['19:00.0'], 'q35')).toThrow('invalid PCI address');
    expect([machineForVfio('auto', [GPU]), machineForVfio('auto', []), machineForVfio('q35', [GPU])]).toEqual(['q35', 'auto', 'q35']);
  });

  it('the guest is told to use the GPU on its kernel command line (CPU guests: unchanged)', () => {
    const cpu = buildKernelCmdline({ guestPort: 8080, threads: 2, modelName: 'model', authorizedKey: KEY });
    expect(cpu).not.toContain('vmbench.device');
    expect(buildKernelCmdline({ guestPort: 8080, threads: 2, modelName: 'model', authorizedKey: KEY, device: 'gpu' })).toBe(`${cpu} vmbench.device=gpu`);
    expect(buildKernelCmdline({ guestPort: 8080, threads: 2, modelName: 'model', authorizedKey: KEY, device: 'gpu', fallback: true })).toBe(`${cpu} vmbench.device=gpu vmbench.fallback=cpu`);
  });
});

describe('host checks before passthrough (SYNTHETIC fixture hosts)', () => {
  it('GPU on vfio-pci, IOMMU on: nothing stands in the way', async () => {
    host = await fixtureHost('gpu-bound-vfio');
    expect(vfioProblems(await readVfioHostState([GPU], host.root), 'kvm')).toEqual([]);
  });

  it('GPU held by nvidia: the exact commands, and never done by vmbench itself', async () => {
    host = await fixtureHost('gpu-bound-nvidia');
    const problems = vfioProblems(await readVfioHostState([GPU], host.root), 'kvm');
    expect(problems).toEqual([
      `${GPU}: IOMMU group 17 is not all vfio-pci's: ${GPU} (nvidia); as root: modprobe vfio-pci && echo ${GPU} > /sys/bus/pci/devices/${GPU}/driver/unbind && echo vfio-pci > /sys/bus/pci/devices/${GPU}/driver_override && echo ${GPU} > /sys/bus/pci/drivers_probe (or: bench doctor --bind-vfio ${GPU})`,
      '/dev/vfio/vfio is missing: modprobe vfio-pci',
    ]);
    const err = vfioError(problems);
    expect([err.kind, err.message.startsWith('qemu: the GPU cannot be passed through: ')]).toEqual(['unsupported', true]);
    expect(err.hint).toContain('scenarios/cpu-resnet.yaml');
  });

  it('IOMMU off: how to turn it on (Intel here); TCG: passthrough needs KVM; an address that is not there', async () => {
    host = await fixtureHost('iommu-off');
    const problems = vfioProblems(await readVfioHostState([GPU, '0000:99:00.0'], host.root), 'tcg');
    expect(problems).toEqual([
      'device passthrough needs KVM, and this VM runs under TCG (KVM did not boot a guest here: see `bench doctor`)',
      `the IOMMU is off: /sys/kernel/iommu_groups is empty; enable VT-d (Intel) / AMD-Vi (AMD) in the firmware setup, then boot with intel_iommu=on iommu=pt; as root: sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="/&intel_iommu=on iommu=pt /' /etc/default/grub && update-grub && reboot`,
      '0000:99:00.0: no such PCI device on this host (`bench doctor` lists the NVIDIA GPUs)',
    ]);
  });
});

describe('resolvePassthrough (QEMU prepare)', () => {
  it('attaches the devices when every check passes; fails with the problems otherwise, unless fallback: cpu', async () => {
    host = await fixtureHost('gpu-bound-vfio');
    const ready = (a: string[]) => readVfioHostState(a, host!.root);
    const { resolvePassthrough } = await import('../../../src/platforms/qemu/vfio.js');
    expect(await resolvePassthrough({ addresses: [GPU], fallback: false }, 'kvm', ready, 'qemu', 'vfio-pci')).toEqual({
      addresses: [GPU],
      facts: { gpuPassthrough: 'vfio-pci', gpuPassthroughDetail: `${GPU}=group 17; every function of each group on vfio-pci` },
    });
    await expect(resolvePassthrough({ addresses: [GPU], fallback: false }, 'tcg', ready, 'qemu', 'vfio-pci')).rejects.toMatchObject({ kind: 'unsupported', message: expect.stringContaining('device passthrough needs KVM') });
    const fb = await resolvePassthrough({ addresses: [GPU], fallback: true }, 'tcg', ready, 'qemu', 'vfio-pci');
    expect(fb.addresses).toEqual([]);
    expect(fb.facts.gpuPassthrough).toBe('none');
  });
});

describe('a GPU VM and snapshots', () => {
  it('takes no part in snapshot/restore (QEMU does not migrate VFIO devices); a CPU VM does', async () => {
    const { QemuPlatform } = await import('../../../src/platforms/qemu/qemu-platform.js');
    const config = { cpus: 1, memoryBytes: 2 ** 30, accel: 'auto' as const, machine: 'auto' as const, bootTimeoutMs: 1000 };
    expect(new QemuPlatform('vm', config, { cacheDir: '/tmp' }).canSnapshot).toBe(true);
    expect(new QemuPlatform('vm', { ...config, gpu: { vfio: [GPU], fallback: false } }, { cacheDir: '/tmp' }).canSnapshot).toBe(false);
  });
});
