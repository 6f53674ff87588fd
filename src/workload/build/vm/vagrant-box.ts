import { createHash } from 'node:crypto';
import { copyFile, link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { Artifact, VagrantBox } from '../../artifact.js';
import { GUEST_DEFAULTS, kernelCmdlineTemplate } from '../../../platforms/linux-guest/kernel-cmdline.js';
import { BenchError, messageOf } from '../../../errors.js';
import { projectRoot } from '../../../paths.js';
import { makeScratchDir, removeScratchDir } from '../scratch.js';

/**
 * The Vagrant box (provider libvirt) made from an artifact: the same qcow2
 * disk as the QEMU VM as `box.img`, `metadata.json`
 * {"provider":"libvirt","format":"qcow2","virtual_size":<GiB>}, the box's
 * Vagrantfile (vagrant/box/Vagrantfile: direct kernel boot from the kernel and
 * initramfs carried in the box, no management network) and the same kernel and
 * initramfs, in an uncompressed tar at <artifactDir>/vagrant.box, described by
 * vagrant-box.json. The box name carries a hash of the artifact id and the box
 * files, so a changed box Vagrantfile makes a new box.
 */

export const BOX_FILE = 'vagrant.box';
export const BOX_INFO_FILE = 'vagrant-box.json';
/** Files of vagrant/box/ packed into every box. */
export const BOX_SOURCE_FILES = ['Vagrantfile', 'vmbench_libvirt.rb'] as const;

export function boxSourceDir(): string {
  return join(projectRoot(), 'vagrant', 'box');
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}

async function placeLinkOrCopy(src: string, dest: string): Promise<void> {
  await link(src, dest).catch(() => copyFile(src, dest));
}

/** Box name for an artifact and the box source files' contents. */
export function boxNameFor(artifactId: string, sources: ReadonlyArray<{ name: string; text: string }>): string {
  const h = createHash('sha256').update('vmbench-box-1\0').update(artifactId);
  for (const s of sources) h.update('\0').update(s.name).update('\0').update(s.text);
  return `vmbench-box-${h.digest('hex').slice(0, 12)}`;
}

export function boxMetadata(virtualSizeBytes: number): { provider: 'libvirt'; format: 'qcow2'; virtual_size: number } {
  return { provider: 'libvirt', format: 'qcow2', virtual_size: Math.max(1, Math.ceil(virtualSizeBytes / 2 ** 30)) };
}

async function readSources(dir: string): Promise<Array<{ name: string; text: string }>> {
  const out: Array<{ name: string; text: string }> = [];
  for (const name of BOX_SOURCE_FILES) {
    try {
      out.push({ name, text: await readFile(join(dir, name), 'utf8') });
    } catch {
      throw new BenchError('internal', `box source ${join(dir, name)} is missing`, { hint: 'restore vagrant/box/ from git' });
    }
  }
  return out;
}

/** The box info recorded in an artifact directory (current or not), else undefined. */
export async function readBoxInfo(artifactDir: string): Promise<VagrantBox | undefined> {
  return readFile(join(artifactDir, BOX_INFO_FILE), 'utf8')
    .then((t) => JSON.parse(t) as VagrantBox)
    .catch(() => undefined);
}

/** The box info of an artifact if its box is built and current, else undefined. */
export async function readVagrantBox(artifact: Artifact, sourceDir = boxSourceDir()): Promise<VagrantBox | undefined> {
  const info = await readBoxInfo(artifact.dir);
  if (!info || !(await exists(info.file))) return undefined;
  const name = boxNameFor(artifact.id, await readSources(sourceDir));
  // A box described before the info carried the command line (or with another one) is rebuilt.
  return info.name === name && info.kernelCmdline === kernelCmdlineTemplate() ? info : undefined;
}

/** Build (or find) the artifact's Vagrant box. ≈ 1 s (a tar of the disk). */
export async function buildVagrantBox(
  artifact: Artifact,
  opts: { force?: boolean; sourceDir?: string; log?: (line: string) => void } = {},
): Promise<VagrantBox> {
  const sourceDir = opts.sourceDir ?? boxSourceDir();
  if (!opts.force) {
    const have = await readVagrantBox(artifact, sourceDir);
    if (have) return have;
  }
  const sources = await readSources(sourceDir);
  const name = boxNameFor(artifact.id, sources);
  const file = join(artifact.dir, BOX_FILE);
  const cacheDir = resolve(artifact.dir, '..', '..'); // <cacheDir>/artifacts/<id>
  const scratch = await makeScratchDir(cacheDir, 'vagrant-box');
  try {
    let virtualSize: number;
    try {
      const { stdout } = await execa('qemu-img', ['info', '--output=json', artifact.vm.disk], { timeout: 30_000 });
      virtualSize = Number((JSON.parse(stdout) as { 'virtual-size': number })['virtual-size']);
    } catch (err) {
      throw new BenchError('infrastructure', `qemu-img info ${artifact.vm.disk} failed: ${messageOf(err)}`, { cause: err });
    }
    const meta = boxMetadata(virtualSize);
    await placeLinkOrCopy(artifact.vm.disk, join(scratch, 'box.img'));
    await placeLinkOrCopy(artifact.vm.kernel, join(scratch, 'vmlinuz'));
    await placeLinkOrCopy(artifact.vm.initrd, join(scratch, 'initrd.img'));
    await writeFile(join(scratch, 'metadata.json'), `${JSON.stringify(meta)}\n`);
    for (const s of sources) await writeFile(join(scratch, s.name), s.text);
    await writeFile(
      join(scratch, 'info.json'),
      `${JSON.stringify({ vmbench: { artifact: artifact.id, rootfsDigest: artifact.rootfsDigest, model: artifact.model.name, kernel: artifact.vm.kernelVersion, box: name } }, null, 2)}\n`,
    );
    const tmp = `${file}.${process.pid}.tmp`;
    await rm(tmp, { force: true });
    const members = ['metadata.json', 'Vagrantfile', ...sources.map((s) => s.name).filter((n) => n !== 'Vagrantfile'), 'info.json', 'vmlinuz', 'initrd.img', 'box.img'];
    try {
      await execa('tar', ['-cf', tmp, '-C', scratch, ...members], { timeout: 300_000 });
    } catch (err) {
      await rm(tmp, { force: true });
      throw new BenchError('infrastructure', `packing the Vagrant box failed: ${messageOf(err)}`, { cause: err });
    }
    await rename(tmp, file);
    const info: VagrantBox = {
      name,
      file,
      bytes: (await stat(file)).size,
      artifactId: artifact.id,
      virtualSizeGiB: meta.virtual_size,
      createdAt: new Date().toISOString(),
      kernelCmdline: kernelCmdlineTemplate(),
      guestPort: GUEST_DEFAULTS.port,
      guestSshPort: GUEST_DEFAULTS.sshPort,
    };
    await writeFile(join(artifact.dir, BOX_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    opts.log?.(`vagrant box ${name}: ${file} (${(info.bytes / 2 ** 20).toFixed(0)} MiB)`);
    return info;
  } finally {
    await removeScratchDir(scratch);
  }
}
