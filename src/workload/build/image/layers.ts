import { chmod, lchown, lstat, lutimes, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../exec.js';

/**
 * An image's filesystem from its layers, the way an overlay mount stacks
 * them (OCI image-spec "Applying changesets"): each layer tar is unpacked by
 * GNU tar into an EMPTY directory of its own — so no member can be written
 * through a link an earlier layer made — and then merged into the root by
 * path, never following a link in the root:
 *
 *  - `.wh..wh..opq` in a directory hides everything the lower layers had there;
 *  - `.wh.NAME` deletes NAME from the lower layers;
 *  - a directory merges into a directory and replaces anything else (a
 *    symlink included); any other entry replaces whatever was there.
 *
 * Ownership, modes and device nodes come through because this runs as root
 * (the artifact build does). Compressed layers (gzip, zstd, xz) are
 * recognised by tar.
 */

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** Merge one unpacked layer directory into the root (both must be directories). */
export async function mergeLayer(layerDir: string, rootDir: string): Promise<void> {
  const names = (await readdir(layerDir)).sort();
  if (names.includes(OPAQUE_WHITEOUT)) {
    for (const n of await readdir(rootDir)) await rm(join(rootDir, n), { recursive: true, force: true });
  }
  for (const n of names) {
    if (!n.startsWith(WHITEOUT_PREFIX) || n.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) continue;
    await rm(join(rootDir, n.slice(WHITEOUT_PREFIX.length)), { recursive: true, force: true });
  }
  for (const n of names) {
    if (n.startsWith(WHITEOUT_PREFIX)) continue; // whiteouts (and aufs' .wh..wh.* bookkeeping) never land in the root
    const src = join(layerDir, n);
    const dst = join(rootDir, n);
    const s = await lstat(src);
    const d = await lstat(dst).catch(() => undefined);
    if (s.isDirectory()) {
      if (d && !d.isDirectory()) await rm(dst, { recursive: true, force: true });
      if (!d || !d.isDirectory()) await mkdir(dst);
      await mergeLayer(src, dst);
      await copyMetadata(s, dst);
    } else {
      if (d) await rm(dst, { recursive: true, force: true });
      await rename(src, dst);
    }
  }
}

async function copyMetadata(s: Awaited<ReturnType<typeof lstat>>, dst: string): Promise<void> {
  await lchown(dst, Number(s.uid), Number(s.gid));
  await chmod(dst, Number(s.mode) & 0o7777);
  await lutimes(dst, s.atime, s.mtime);
}

/** Stack `layers` (tar files, lowest first) into `root` (an existing, usually empty directory). */
export async function applyLayers(root: string, layers: readonly string[], scratchDir: string): Promise<void> {
  for (const [i, file] of layers.entries()) {
    const dir = join(scratchDir, `layer-${i}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    try {
      await runCommand('tar', ['--numeric-owner', '-xpf', file, '-C', dir], { what: `tar -x (image layer ${i + 1} of ${layers.length})` });
      await mergeLayer(dir, root);
      const top = await lstat(dir);
      await copyMetadata(top, root);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
