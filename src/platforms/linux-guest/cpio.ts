import { BenchError } from '../../errors.js';
import { gzipSync } from 'node:zlib';

/**
 * A minimal, deterministic writer for the "newc" cpio format the kernel
 * unpacks as an initramfs (same bytes as `cpio -o -H newc` for the same list,
 * except inode numbers, which are sequential here).
 */
export type CpioEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char' | 'block'; path: string; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function header(f: {
  ino: number; mode: number; nlink: number; mtime: number; size: number; rmaj: number; rmin: number; namesize: number;
}): string {
  return (
    '070701' +
    hex8(f.ino) + hex8(f.mode) + hex8(0) + hex8(0) + hex8(f.nlink) + hex8(f.mtime) + hex8(f.size) +
    hex8(0) + hex8(0) + hex8(f.rmaj) + hex8(f.rmin) + hex8(f.namesize) + hex8(0)
  );
}

/** Archive bytes (uncompressed); all entries owned by 0:0 with the given mtime. Paths without a leading '/'. */
export function writeCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, fields: { mode: number; nlink: number; size: number; rmaj: number; rmin: number; ino: number }, data?: Buffer) => {
    const nameBuf = Buffer.from(`${name}\0`);
    const head = Buffer.from(header({ ...fields, mtime, namesize: nameBuf.length }), 'ascii');
    parts.push(head, nameBuf, pad4(head.length + nameBuf.length));
    if (data && data.length) parts.push(data, pad4(data.length));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (!name) throw new BenchError('internal', 'cpio: empty path');
    switch (e.type) {
      case 'dir':
        push(name, { ino: ino++, mode: S_IFDIR | (e.mode & 0o7777), nlink: 2, size: 0, rmaj: 0, rmin: 0 });
        break;
      case 'file':
        push(name, { ino: ino++, mode: S_IFREG | (e.mode & 0o7777), nlink: 1, size: e.data.length, rmaj: 0, rmin: 0 }, e.data);
        break;
      case 'symlink': {
        const data = Buffer.from(e.target);
        push(name, { ino: ino++, mode: S_IFLNK | 0o777, nlink: 1, size: data.length, rmaj: 0, rmin: 0 }, data);
        break;
      }
      case 'char':
      case 'block':
        push(name, {
          ino: ino++, mode: (e.type === 'char' ? S_IFCHR : S_IFBLK) | (e.mode & 0o7777), nlink: 1, size: 0, rmaj: e.major, rmin: e.minor,
        });
        break;
    }
  }
  push('TRAILER!!!', { ino: 0, mode: 0, nlink: 1, size: 0, rmaj: 0, rmin: 0 });
  const out = Buffer.concat(parts);
  // Pad to a 512-byte multiple like cpio(1) does.
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}

/** gzip with a fixed header (mtime 0), as the kernel expects for a compressed initramfs. */
export function gzipCpio(archive: Buffer): Buffer {
  return gzipSync(archive, { level: 9 });
}
