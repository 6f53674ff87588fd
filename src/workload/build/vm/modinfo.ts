import { BenchError } from '../../../errors.js';
/**
 * Reads a kernel module's .modinfo ELF section (key=value strings separated
 * by NULs), the same data `modinfo` shows. Debian's kernel packages ship no
 * modules.dep (depmod makes it at install time), so module dependencies come
 * from each module's `depends=` entry.
 */
export function readModinfo(elf: Buffer): Map<string, string[]> {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) {
    throw new BenchError('infrastructure', 'not a little-endian ELF64 kernel module');
  }
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const section = (i: number) => {
    const off = shoff + i * shentsize;
    return {
      name: elf.readUInt32LE(off),
      offset: Number(elf.readBigUInt64LE(off + 0x18)),
      size: Number(elf.readBigUInt64LE(off + 0x20)),
    };
  };
  const strtab = section(shstrndx);
  const nameAt = (n: number) => {
    const start = strtab.offset + n;
    const end = elf.indexOf(0, start);
    return elf.toString('latin1', start, end);
  };
  const out = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameAt(s.name) !== '.modinfo') continue;
    for (const entry of elf.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const k = entry.slice(0, eq);
      out.set(k, [...(out.get(k) ?? []), entry.slice(eq + 1)]);
    }
  }
  return out;
}

/** Module names a module depends on (its `depends=` entry), normalised to underscores. */
export function modinfoDepends(elf: Buffer): string[] {
  const dep = readModinfo(elf).get('depends')?.[0] ?? '';
  return dep.split(',').map((d) => d.trim().replace(/-/g, '_')).filter(Boolean);
}
