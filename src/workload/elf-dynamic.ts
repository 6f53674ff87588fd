import { open, type FileHandle } from 'node:fs/promises';

/**
 * The dynamic section of an x86-64 shared library (ELF64, little endian):
 * the libraries it needs (DT_NEEDED), its own soname and where it tells the
 * loader to look (DT_RUNPATH / DT_RPATH) — what `readelf -d` prints, read
 * with a few small reads, since CUDA libraries run to hundreds of MB.
 */

export interface ElfDynamic {
  soname: string | null;
  needed: string[];
  runpath: string[];
  rpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT = { NULL: 0n, NEEDED: 1n, STRTAB: 5n, STRSZ: 10n, SONAME: 14n, RPATH: 15n, RUNPATH: 29n } as const;

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** The dynamic section, or null when the file is not a little-endian ELF64 object with one. */
export async function readElfDynamic(path: string): Promise<ElfDynamic | null> {
  const fh = await open(path, 'r');
  try {
    const eh = await readAt(fh, 0, 64);
    if (eh.length < 64 || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) return null;
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const ph = await readAt(fh, phoff, phentsize * phnum);
    const loads: Array<{ vaddr: number; offset: number; filesz: number }> = [];
    let dyn: { offset: number; size: number } | null = null;
    for (let i = 0; i < phnum; i++) {
      const b = i * phentsize;
      if (b + 56 > ph.length) break;
      const type = ph.readUInt32LE(b);
      const offset = Number(ph.readBigUInt64LE(b + 0x08));
      const vaddr = Number(ph.readBigUInt64LE(b + 0x10));
      const filesz = Number(ph.readBigUInt64LE(b + 0x20));
      if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
      if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
    }
    if (!dyn) return null;
    const d = await readAt(fh, dyn.offset, dyn.size);
    const entries: Array<[bigint, bigint]> = [];
    let strtab = -1;
    let strsz = 0;
    for (let o = 0; o + 16 <= d.length; o += 16) {
      const tag = d.readBigInt64LE(o);
      const val = d.readBigUInt64LE(o + 8);
      if (tag === DT.NULL) break;
      if (tag === DT.STRTAB) strtab = Number(val);
      else if (tag === DT.STRSZ) strsz = Number(val);
      else entries.push([tag, val]);
    }
    const seg = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
    if (!seg || strsz <= 0) return null;
    const strings = await readAt(fh, strtab - seg.vaddr + seg.offset, strsz);
    const str = (off: bigint) => {
      const start = Number(off);
      const end = strings.indexOf(0, start);
      return strings.toString('latin1', start, end < 0 ? strings.length : end);
    };
    const out: ElfDynamic = { soname: null, needed: [], runpath: [], rpath: [] };
    for (const [tag, val] of entries) {
      if (tag === DT.NEEDED) out.needed.push(str(val));
      else if (tag === DT.SONAME) out.soname = str(val);
      else if (tag === DT.RUNPATH) out.runpath.push(...str(val).split(':').filter(Boolean));
      else if (tag === DT.RPATH) out.rpath.push(...str(val).split(':').filter(Boolean));
    }
    return out;
  } finally {
    await fh.close();
  }
}
