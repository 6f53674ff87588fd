import { access, constants, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BenchError } from '../../errors.js';
import type { VagrantBox } from '../../workload/artifact.js';
import { BOX_PREFIX, type VagrantPaths, vagrantGlobalExec, virsh } from './env.js';

/**
 * Boxes in the project-local VAGRANT_HOME (added on first use from the .box
 * file `bench images build` makes) and the base volumes vagrant-libvirt
 * uploads from them into the `vmbench` pool
 * (<box>_vagrant_box_image_<version>_<mtime>_box.img).
 */

function boxDir(paths: VagrantPaths, name: string): string {
  return join(paths.home, 'boxes', name, '0', 'libvirt');
}

/** `vagrant box add` the box unless VAGRANT_HOME has it already. */
export async function ensureBoxAdded(paths: VagrantPaths, box: VagrantBox, log?: (line: string) => void): Promise<'added' | 'present'> {
  try {
    await access(join(boxDir(paths, box.name), 'box.img'), constants.R_OK);
    await access(join(boxDir(paths, box.name), 'metadata.json'), constants.R_OK);
    return 'present';
  } catch {
    /* add it */
  }
  log?.(`vagrant box add --name ${box.name} ${box.file}`);
  await mkdir(paths.root, { recursive: true });
  const r = await execa('vagrant', ['box', 'add', '--force', '--name', box.name, box.file], {
    reject: false,
    timeout: 300_000,
    ...vagrantGlobalExec(paths),
    all: true,
  });
  if (r.exitCode !== 0) {
    throw new BenchError('infrastructure', `vagrant box add ${box.name} failed: ${String(r.all ?? '').trim().split('\n').slice(-5).join(' / ')}`);
  }
  return 'added';
}

/** Boxes named vmbench-box-* in VAGRANT_HOME. */
export async function listAddedBoxes(paths: VagrantPaths): Promise<string[]> {
  const names = await readdir(join(paths.home, 'boxes')).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(BOX_PREFIX)).sort();
}

/** Pool volumes that are box base images (not per-domain disks). */
export function isBoxVolume(volume: string): boolean {
  return volume.startsWith(BOX_PREFIX) && volume.includes('_vagrant_box_image_');
}

export async function listPoolVolumes(paths: VagrantPaths): Promise<string[]> {
  const r = await virsh(paths, ['vol-list', paths.pool, '--details'], 15_000).catch(() => ({ stdout: '', exitCode: 1, stderr: '' }));
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/**
 * Remove boxes (by name) from VAGRANT_HOME and their base volumes from the
 * pool. Volumes go only while libvirtd answers; a missing box is not an error.
 */
export async function removeBoxes(paths: VagrantPaths, names: readonly string[], log?: (line: string) => void): Promise<number> {
  let removed = 0;
  await mkdir(paths.root, { recursive: true });
  const volumes = await listPoolVolumes(paths);
  for (const name of names) {
    const r = await execa('vagrant', ['box', 'remove', '--force', '--all', name], { reject: false, timeout: 120_000, ...vagrantGlobalExec(paths), all: true });
    if (r.exitCode !== 0) {
      // vagrant refuses when it is not there, or errors: remove the directory ourselves.
      log?.(`vagrant box remove ${name}: ${String(r.all ?? '').trim().split('\n').slice(-1)[0] ?? ''}`);
      await rm(join(paths.home, 'boxes', name), { recursive: true, force: true });
    }
    removed++;
    for (const v of volumes.filter((v) => v.startsWith(`${name}_vagrant_box_image_`))) {
      const d = await virsh(paths, ['vol-delete', '--pool', paths.pool, v], 30_000);
      if (d.exitCode !== 0) log?.(`virsh vol-delete ${v}: ${d.stderr.trim()}`);
    }
  }
  return removed;
}
