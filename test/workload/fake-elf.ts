import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CUDNN9_SUBLIBRARIES } from '../../src/workload/gpu-libraries.js';

/**
 * Minimal ELF64 little-endian files for tests: a shared object with a dynamic
 * section (soname, DT_NEEDED, RUNPATH), as readelf -d would show it, and a
 * kernel module with just a .modinfo section. Enough for the readers under
 * test, nothing a loader could use.
 */

function header(type: number, phnum: number, shoff = 0, shnum = 0, shstrndx = 0): Buffer {
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 2; // ELFCLASS64
  h[5] = 1; // little endian
  h[6] = 1;
  h.writeUInt16LE(type, 0x10);
  h.writeUInt16LE(62, 0x12); // x86-64
  h.writeUInt32LE(1, 0x14);
  h.writeBigUInt64LE(BigInt(phnum ? 64 : 0), 0x20);
  h.writeBigUInt64LE(BigInt(shoff), 0x28);
  h.writeUInt16LE(64, 0x34);
  h.writeUInt16LE(56, 0x36);
  h.writeUInt16LE(phnum, 0x38);
  h.writeUInt16LE(64, 0x3a);
  h.writeUInt16LE(shnum, 0x3c);
  h.writeUInt16LE(shstrndx, 0x3e);
  return h;
}

export function fakeSharedObject(o: { soname?: string; needed?: string[]; runpath?: string }): Buffer {
  const strings = ['', ...(o.soname ? [o.soname] : []), ...(o.needed ?? []), ...(o.runpath ? [o.runpath] : [])];
  const offsets = new Map<string, number>();
  let strtab = Buffer.alloc(0);
  for (const s of strings) {
    if (!offsets.has(s)) offsets.set(s, strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(`${s}\0`, 'latin1')]);
  }
  const strOff = 64 + 2 * 56;
  const dynOff = strOff + strtab.length + ((8 - ((strOff + strtab.length) % 8)) % 8);
  const dyn: Array<[number, number]> = [];
  if (o.soname) dyn.push([14, offsets.get(o.soname)!]);
  for (const n of o.needed ?? []) dyn.push([1, offsets.get(n)!]);
  if (o.runpath) dyn.push([29, offsets.get(o.runpath)!]);
  dyn.push([5, strOff], [10, strtab.length], [0, 0]);
  const dynBuf = Buffer.alloc(dyn.length * 16);
  dyn.forEach(([tag, val], i) => {
    dynBuf.writeBigInt64LE(BigInt(tag), i * 16);
    dynBuf.writeBigUInt64LE(BigInt(val), i * 16 + 8);
  });
  const total = dynOff + dynBuf.length;
  const ph = Buffer.alloc(2 * 56);
  const entry = (i: number, type: number, offset: number, size: number) => {
    ph.writeUInt32LE(type, i * 56);
    ph.writeBigUInt64LE(BigInt(offset), i * 56 + 8);
    ph.writeBigUInt64LE(BigInt(offset), i * 56 + 16);
    ph.writeBigUInt64LE(BigInt(size), i * 56 + 32);
    ph.writeBigUInt64LE(BigInt(size), i * 56 + 40);
  };
  entry(0, 1, 0, total); // PT_LOAD: the whole file at vaddr 0
  entry(1, 2, dynOff, dynBuf.length); // PT_DYNAMIC
  const pad = Buffer.alloc(dynOff - strOff - strtab.length);
  return Buffer.concat([header(3, 2), ph, strtab, pad, dynBuf]);
}

export function fakeKernelModule(modinfo: Record<string, string>): Buffer {
  const shstr = Buffer.from('\0.shstrtab\0.modinfo\0', 'latin1');
  const info = Buffer.from(Object.entries(modinfo).map(([k, v]) => `${k}=${v}\0`).join(''), 'latin1');
  const shstrOff = 64;
  const infoOff = shstrOff + shstr.length;
  const shoff = infoOff + info.length + ((8 - ((infoOff + info.length) % 8)) % 8);
  const sh = Buffer.alloc(3 * 64);
  const section = (i: number, name: number, offset: number, size: number) => {
    sh.writeUInt32LE(name, i * 64);
    sh.writeBigUInt64LE(BigInt(offset), i * 64 + 0x18);
    sh.writeBigUInt64LE(BigInt(size), i * 64 + 0x20);
  };
  section(1, 1, shstrOff, shstr.length);
  section(2, 11, infoOff, info.length);
  const pad = Buffer.alloc(shoff - infoOff - info.length);
  return Buffer.concat([header(1, 0, shoff, 3, 1), shstr, info, pad, sh]);
}

/** The shape of ONNX Runtime's CUDA 12 provider set (names and DT_NEEDED as ONNX Runtime documents them; files made up). */
export async function writeProviderSet(d: string, leaveOut: string[] = []): Promise<void> {
  const libs: Record<string, string[]> = {
    'libonnxruntime_providers_cuda.so': ['libcublasLt.so.12', 'libcublas.so.12', 'libcudnn.so.9', 'libcurand.so.10', 'libcufft.so.11', 'libcudart.so.12', 'libonnxruntime_providers_shared.so', 'libstdc++.so.6', 'libm.so.6', 'libc.so.6'],
    'libonnxruntime_providers_shared.so': ['libc.so.6'],
    'libcublas.so.12': ['libcublasLt.so.12', 'librt.so.1', 'libpthread.so.0', 'libdl.so.2'],
    'libcublasLt.so.12': ['libc.so.6'],
    'libcudnn.so.9': ['libz.so.1', 'libc.so.6'],
    'libcurand.so.10': ['libc.so.6'],
    'libcufft.so.11': ['libc.so.6'],
    'libcudart.so.12': ['libc.so.6'],
    ...Object.fromEntries(CUDNN9_SUBLIBRARIES.map((n) => [n, n === 'libcudnn_engines_runtime_compiled.so.9' ? ['libcuda.so.1', 'libc.so.6'] : ['libc.so.6']])),
  };
  await mkdir(d, { recursive: true });
  for (const [name, needed] of Object.entries(libs)) if (!leaveOut.includes(name)) await writeFile(join(d, name), fakeSharedObject({ soname: name, needed }));
}
