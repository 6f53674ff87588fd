import { open } from 'node:fs/promises';
import { BenchError } from '../../../errors.js';

/** The host's static busybox (busybox-static), copied into the initramfs and the rootfs. */
export const HOST_BUSYBOX = '/bin/busybox';

/** Whether an ELF64 file has no PT_INTERP program header (i.e. is statically linked). */
export async function isStaticElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return false; // ELF64 LE only
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false;
    return true;
  } finally {
    await fh.close();
  }
}

/** Path of the host's static busybox, or a BenchError saying how to get one. */
export async function hostStaticBusybox(path = HOST_BUSYBOX): Promise<string> {
  const ok = await isStaticElf(path).catch(() => undefined);
  if (ok === undefined) {
    throw new BenchError('infrastructure', `${path} not found (needed for the VM's initramfs and init)`, {
      hint: 'apt-get install busybox-static (or run ./scripts/setup.sh)',
    });
  }
  if (!ok) {
    throw new BenchError('infrastructure', `${path} is dynamically linked; the initramfs needs a static busybox`, {
      hint: 'apt-get install busybox-static',
    });
  }
  return path;
}
