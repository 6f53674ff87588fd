import { describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import {
  buildQemuArgs,
  hostCpuKhz,
  hostfwdRules,
  type QemuArgsOptions,
  qemuOptValue,
  resolveMachine,
  TCG_TB_SIZE_MIB,
} from '../../../src/platforms/qemu/args.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0qdNs47CH6fcK4hUGD0VlEjr1NptCzGlXZXIRaybsA vmbench-r1-i0';

function opts(over: Partial<QemuArgsOptions> = {}): QemuArgsOptions {
  return {
    name: 'vmbench-r1-i0',
    machine: 'pc',
    accel: 'tcg',
    cpus: 2,
    memoryMiB: 512,
    kernel: '/a/vmlinuz',
    initrd: '/a/initrd.img',
    cmdline: 'console=ttyS0 root=/dev/vda rw quiet panic=-1',
    disk: '/run/i0/overlay.qcow2',
    consoleLog: '/run/i0/console.log',
    qmpSocket: '/run/i0/qmp.sock',
    pidfile: '/run/i0/qemu.pid',
    hostPort: 18080,
    guestPort: 8080,
    sshPort: 22022,
    ...over,
  };
}

/** Value following a flag (first occurrence). */
function flag(args: string[], f: string): string | undefined {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
}
function all(args: string[], f: string): string[] {
  return args.flatMap((a, i) => (a === f && args[i + 1] !== undefined ? [args[i + 1]!] : []));
}

describe('buildQemuArgs', () => {
  it('pc + TCG: PCI virtio devices, tb-size cap, -cpu max', () => {
    const a = buildQemuArgs(opts());
    expect(flag(a, '-M')).toBe('pc');
    expect(flag(a, '-accel')).toBe(`tcg,tb-size=${TCG_TB_SIZE_MIB}`);
    expect(flag(a, '-cpu')).toBe('max');
    expect(all(a, '-device')).toEqual(['virtio-blk-pci,drive=d0', 'virtio-net-pci,netdev=n0']);
    expect(flag(a, '-smp')).toBe('2');
    expect(flag(a, '-m')).toBe('512');
    expect(flag(a, '-name')).toBe('vmbench-r1-i0');
    expect(flag(a, '-display')).toBe('none');
    expect(a).toContain('-no-reboot');
    expect(a).toContain('-nodefaults');
    expect(flag(a, '-qmp')).toBe('unix:/run/i0/qmp.sock,server=on,wait=off');
    expect(flag(a, '-pidfile')).toBe('/run/i0/qemu.pid');
    expect(flag(a, '-chardev')).toBe('file,id=con0,path=/run/i0/console.log');
    expect(flag(a, '-serial')).toBe('chardev:con0');
    expect(flag(a, '-kernel')).toBe('/a/vmlinuz');
    expect(flag(a, '-initrd')).toBe('/a/initrd.img');
    expect(flag(a, '-drive')).toBe('file=/run/i0/overlay.qcow2,if=none,id=d0,format=qcow2');
  });

  it('microvm + KVM: MMIO virtio devices, no TCG options', () => {
    const a = buildQemuArgs(opts({ machine: 'microvm', accel: 'kvm', cpu: 'max' }));
    expect(flag(a, '-M')).toBe('microvm');
    expect(flag(a, '-accel')).toBe('kvm');
    expect(a.join(' ')).not.toContain('tb-size');
    expect(flag(a, '-cpu')).toBe('max');
    expect(a).not.toContain('host');
    expect(all(a, '-device')).toEqual(['virtio-blk-device,drive=d0', 'virtio-net-device,netdev=n0']);
  });

  it('q35 uses PCI devices too', () => {
    const a = buildQemuArgs(opts({ machine: 'q35' }));
    expect(all(a, '-device')).toEqual(['virtio-blk-pci,drive=d0', 'virtio-net-pci,netdev=n0']);
  });

  it.each([
    ['pc', 'tcg'],
    ['microvm', 'kvm'],
    ['microvm', 'tcg'],
  ] as const)('%s/%s: forwards bind 127.0.0.1 only and the guest is restricted', (machine, accel) => {
    const a = buildQemuArgs(opts({ machine, accel }));
    const netdev = flag(a, '-netdev')!;
    expect(netdev.startsWith('user,id=n0,')).toBe(true);
    expect(netdev.split(',')).toContain('restrict=on');
    const fwds = netdev.split(',').filter((p) => p.startsWith('hostfwd='));
    expect(fwds).toEqual(['hostfwd=tcp:127.0.0.1:18080-:8080', 'hostfwd=tcp:127.0.0.1:22022-:22']);
    for (const f of fwds) expect(f).toMatch(/^hostfwd=tcp:127\.0\.0\.1:\d+-:\d+$/);
    const joined = a.join(' ');
    expect(joined).not.toMatch(/0\.0\.0\.0/);
    expect(joined).not.toMatch(/hostfwd=tcp::/); // an empty host address would bind every interface
    expect(joined).not.toMatch(/guestfwd/);
    // No other network backends or monitors that listen on TCP.
    expect(all(a, '-netdev')).toHaveLength(1);
    expect(joined).not.toMatch(/tcp:[^1]/);
  });

  it('hostfwdRules rejects bad ports', () => {
    expect(() => hostfwdRules({ hostPort: 0, guestPort: 8080, sshPort: 2222 })).toThrow(BenchError);
    expect(() => hostfwdRules({ hostPort: 70000, guestPort: 8080, sshPort: 2222 })).toThrow(BenchError);
  });

  it('escapes commas in paths and rejects odd names / clashing ports', () => {
    expect(qemuOptValue('/x,y/z')).toBe('/x,,y/z');
    const a = buildQemuArgs(opts({ disk: '/c,d/overlay.qcow2' }));
    expect(flag(a, '-drive')).toBe('file=/c,,d/overlay.qcow2,if=none,id=d0,format=qcow2');
    expect(() => buildQemuArgs(opts({ name: 'vm bench' }))).toThrow(BenchError);
    expect(() => buildQemuArgs(opts({ sshPort: 18080 }))).toThrow(/differ/);
    expect(() => buildQemuArgs(opts({ cpus: 0 }))).toThrow(BenchError);
  });
});

describe('resolveMachine / hostCpuKhz', () => {
  it('auto picks microvm with KVM and pc with TCG; explicit wins', () => {
    expect(resolveMachine('auto', 'kvm')).toBe('microvm');
    expect(resolveMachine('auto', 'tcg')).toBe('pc');
    expect(resolveMachine('q35', 'tcg')).toBe('q35');
    expect(resolveMachine('microvm', 'tcg')).toBe('microvm');
  });

  it('reads cpufreq base_frequency, then cpu MHz, then cpuinfo_max_freq', () => {
    const fs = (files: Record<string, string>) => (p: string) => {
      const v = files[p];
      if (v === undefined) throw new Error('ENOENT');
      return v;
    };
    expect(hostCpuKhz(fs({ '/sys/devices/system/cpu/cpu0/cpufreq/base_frequency': '2100000\n' }))).toBe(2100000);
    expect(hostCpuKhz(fs({ '/proc/cpuinfo': 'processor\t: 0\ncpu MHz\t\t: 2596.124\n' }))).toBe(2596124);
    expect(hostCpuKhz(fs({ '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq': '3000000' }))).toBe(3000000);
    expect(hostCpuKhz(fs({}))).toBeNull();
    // The real host: some positive number (or null where none is exposed).
    const real = hostCpuKhz();
    expect(real === null || real > 0).toBe(true);
  });
});
