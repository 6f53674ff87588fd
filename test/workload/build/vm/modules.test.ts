import { describe, expect, it } from 'vitest';
import { initramfsInitScript } from '../../../../src/workload/build/vm/initramfs.js';
import { parseModulesBuiltin, parseModulesDep, resolveModuleOrder, WANTED_MODULES } from '../../../../src/workload/build/vm/modules.js';
import { modinfoDepends, readModinfo } from '../../../../src/workload/build/vm/modinfo.js';

// modules.dep as depmod writes it for Debian's 6.1 cloud kernel (deps are the transitive closure).
const DEP = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz kernel/fs/mbcache.ko.xz
kernel/fs/jbd2/jbd2.ko.xz:
kernel/fs/mbcache.ko.xz:
`;

describe('kernel module load order', () => {
  const dep = parseModulesDep(DEP);

  it('loads dependencies first and covers the virtio stack', () => {
    const { order } = resolveModuleOrder(WANTED_MODULES, dep, new Set(['ext4']));
    const names = order.map((m) => m.name);
    expect(names).toEqual([
      'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio', 'virtio_pci',
      'virtio_mmio', 'virtio_blk', 'failover', 'net_failover', 'virtio_net',
    ]);
    for (const [i, m] of order.entries()) {
      for (const d of dep.get(m.name)!.deps) expect(names.indexOf(d), `${d} before ${m.name}`).toBeLessThan(i);
    }
  });

  it('skips built-in modules and keeps compressed paths', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n');
    const { order, builtin: hit } = resolveModuleOrder(['virtio_blk', 'ext4'], dep, builtin);
    expect(order.map((m) => m.name)).toEqual(['virtio_blk', 'jbd2', 'mbcache', 'ext4']);
    expect(order.at(-1)!.path).toBe('kernel/fs/ext4/ext4.ko.xz');
    expect(hit).toEqual(['virtio', 'virtio_ring']);
  });

  it('reports a module that is neither built in nor loadable', () => {
    expect(() => resolveModuleOrder(['virtio_gpu'], dep, new Set())).toThrow(/virtio_gpu/);
  });

  it('puts the order into the initramfs /init', () => {
    const { order } = resolveModuleOrder(WANTED_MODULES, dep, new Set(['ext4']));
    const script = initramfsInitScript(order.map((m) => m.name));
    expect(script).toContain(`MODULES="${order.map((m) => m.name).join(' ')}"`);
    expect(script).toContain('insmod /lib/modules/$m.ko');
    expect(script).toContain('switch_root /newroot /sbin/vmbench-init');
    expect(script).toContain('VMBENCH_PHASE initramfs');
  });
});

/** A minimal ELF64 with a .modinfo section, as a kernel module has. */
function fakeModule(modinfo: string[]): Buffer {
  const info = Buffer.from(modinfo.map((s) => `${s}\0`).join(''));
  const shstr = Buffer.from('\0.modinfo\0.shstrtab\0');
  const infoOff = 64;
  const strOff = infoOff + info.length;
  const shoff = Math.ceil((strOff + shstr.length) / 8) * 8;
  const buf = Buffer.alloc(shoff + 3 * 64);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2;
  buf[5] = 1;
  buf.writeBigUInt64LE(BigInt(shoff), 0x28);
  buf.writeUInt16LE(64, 0x3a);
  buf.writeUInt16LE(3, 0x3c);
  buf.writeUInt16LE(2, 0x3e);
  info.copy(buf, infoOff);
  shstr.copy(buf, strOff);
  const sh = (i: number, name: number, off: number, size: number) => {
    const o = shoff + i * 64;
    buf.writeUInt32LE(name, o);
    buf.writeBigUInt64LE(BigInt(off), o + 0x18);
    buf.writeBigUInt64LE(BigInt(size), o + 0x20);
  };
  sh(1, 1, infoOff, info.length);
  sh(2, 10, strOff, shstr.length);
  return buf;
}

describe('module .modinfo', () => {
  it('reads depends= (Debian packages ship no modules.dep)', () => {
    const elf = fakeModule(['license=GPL', 'depends=virtio_ring,virtio,net-failover', 'name=virtio_net']);
    expect(modinfoDepends(elf)).toEqual(['virtio_ring', 'virtio', 'net_failover']);
    expect(readModinfo(elf).get('name')).toEqual(['virtio_net']);
    expect(modinfoDepends(fakeModule(['depends=', 'name=virtio_ring']))).toEqual([]);
  });
});
