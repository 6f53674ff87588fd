import { lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../exec.js';
import { FIXED_MTIME_S } from '../rootfs/digest.js';

export const DISK_LABEL = 'vmbench-root';
export const DISK_HEADROOM_MIB = 256;

/** Bytes the tree needs on a 4 KiB-block filesystem (data blocks + one inode-table share per entry). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = await lstat(p);
      total += Math.ceil(st.size / 4096) * 4096 + 256;
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return total;
}

/** A stable filesystem UUID derived from the artifact id. */
export function diskUuid(artifactId: string): string {
  const h = artifactId.padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * `mkfs.ext4 -d <rootfs>` into a sparse raw image (tree + 10 % + 256 MiB
 * headroom), then `qemu-img convert -O qcow2` to `dest`. Returns the qcow2's
 * actual size on disk.
 */
export async function buildDisk(
  rootfsDir: string,
  dest: string,
  opts: { scratchDir: string; artifactId: string; headroomMiB?: number },
): Promise<{ diskBytes: number; virtualBytes: number }> {
  const need = await treeBytes(rootfsDir);
  const mib = Math.ceil((need * 1.1) / 2 ** 20) + (opts.headroomMiB ?? DISK_HEADROOM_MIB);
  const raw = join(opts.scratchDir, 'disk.raw');
  const uuid = diskUuid(opts.artifactId);
  await runCommand(
    'mkfs.ext4',
    ['-q', '-F', '-L', DISK_LABEL, '-U', uuid, '-E', `root_owner=0:0,hash_seed=${uuid}`, '-m', '0', '-d', rootfsDir, raw, `${mib}M`],
    { what: 'mkfs.ext4 (VM disk)', env: { E2FSPROGS_FAKE_TIME: String(FIXED_MTIME_S) } },
  );
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    await runCommand('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, tmp], { what: 'qemu-img convert (VM disk)' });
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
    await rm(raw, { force: true });
  }
  const st = await stat(dest);
  return { diskBytes: st.blocks * 512, virtualBytes: mib * 2 ** 20 };
}
