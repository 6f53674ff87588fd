import type Dockerode from 'dockerode';
import { lutimes, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Artifact } from '../../artifact.js';
import { GUEST_DIGEST_FILE } from '../../contract.js';
import { BenchError } from '../../../errors.js';
import { IMAGE_INIT_PATH, type ImageLaunch, type ImageSource } from '../../image-workload.js';
import { ARTIFACT_FILES, artifactDir, complete, placeFile, readManifest } from '../build.js';
import { withBuildLock } from '../build-lock.js';
import { findArtifactImage, IMAGE_REPO, LABEL_ARTIFACT, LABEL_DIGEST, importRootfsImage } from '../docker-image.js';
import { FileHashCache, sha256Json } from '../file-hash.js';
import { cachedStep, timedStep, type ProgressFn } from '../progress.js';
import { requireRoot } from '../rootfs/base.js';
import { hostStaticBusybox } from '../rootfs/busybox.js';
import { computeRootfsDigest, FIXED_MTIME_S, fixMtimes, VOLATILE_DIRS } from '../rootfs/digest.js';
import { hostPathIn } from '../rootfs/guest-path.js';
import { ensureHostKey } from '../rootfs/host-key.js';
import { makeScratchDir, removeScratchDir } from '../scratch.js';
import { buildDisk } from '../vm/disk.js';
import { buildInitramfs, initramfsInitScript } from '../vm/initramfs.js';
import { ensureKernel } from '../vm/kernel.js';
import { installGuestBits, rootHome, toolBundle } from './guest-bits.js';
import { imageInitScript } from './image-init.js';
import { applyLayers } from './layers.js';
import { resolveLaunch, resolveUser, type LaunchOverrides, type ResolvedUser } from './launch.js';
import { identifyImage, imageLayers } from './source.js';

/**
 * The artifact of an image workload ("bring your own server"): the image's
 * layers stacked into one filesystem, the guest bits added (guest-bits.ts),
 * every mtime fixed and the tree digested — then, exactly like the built-in
 * server's artifact, imported as the Docker image vmbench/workload:<id12>
 * (with the image's resolved config, so the container starts what the VM
 * starts) and written as the VM disk, booted with the same cloud kernel and
 * an initramfs that switch_roots into /.vmbench/init. Content-addressed: the
 * id hashes the image's config digest, the resolved launch, the guest bits,
 * the kernel and the init; a cached artifact is reused in about a second.
 */

/** Bump when the recipe changes in a way the hashed inputs do not show. */
export const IMAGE_BUILD_VERSION = 'vmbench-image-artifact-1';
export const LABEL_IMAGE = 'vmbench.image';

export interface ImageWorkloadSpec {
  source: ImageSource;
  overrides: LaunchOverrides;
}

export interface BuildImageArtifactOptions {
  cacheDir: string;
  docker: Dockerode;
  workload: ImageWorkloadSpec;
  /** The v2 model name (recorded as the artifact's model name), when there is one. */
  modelName?: string;
  onProgress?: ProgressFn;
  force?: boolean;
}

/**
 * Docker's view of the same launch (import --change instructions) and the
 * artifact's labels. Import takes no STOPSIGNAL: the container gets the
 * image's stop signal when it is created (platforms/docker/image-workload.ts).
 */
export function imageArtifactChanges(launch: ImageLaunch, artifactId: string, digest: string, imageId: string): string[] {
  return [
    `ENTRYPOINT ${JSON.stringify(launch.entrypoint)}`,
    `CMD ${JSON.stringify(launch.cmd)}`,
    ...launch.env.map((kv) => {
      const i = kv.indexOf('=');
      return `ENV ${kv.slice(0, i)}=${JSON.stringify(kv.slice(i + 1))}`;
    }),
    `WORKDIR ${launch.workingDir}`,
    ...(launch.user ? [`USER ${launch.user}`] : []),
    `EXPOSE ${launch.port}/tcp`,
    `LABEL ${LABEL_ARTIFACT}=${artifactId}`,
    `LABEL ${LABEL_DIGEST}=${digest}`,
    `LABEL ${LABEL_IMAGE}=${imageId}`,
  ];
}

/** A user standing for "whoever the image resolves to" when hashing the init's recipe. */
const ANY_USER: ResolvedUser = { uid: 4242, gid: 4242, groups: [4243], home: '/home/any' };

export async function buildImageArtifact(opts: BuildImageArtifactOptions): Promise<Artifact> {
  const cacheDir = resolve(opts.cacheDir);
  await mkdir(cacheDir, { recursive: true });
  return withBuildLock(cacheDir, () => buildLocked(opts, cacheDir));
}

async function buildLocked(opts: BuildImageArtifactOptions, cacheDir: string): Promise<Artifact> {
  const { onProgress, docker } = opts;
  const { source } = opts.workload;
  const identified = await identifyImage(source, docker);
  const launch = resolveLaunch(identified.config.config ?? {}, opts.workload.overrides, source.ref);
  const kernel = await ensureKernel(cacheDir, { onProgress });
  const busybox = await hostStaticBusybox();
  const tools = await toolBundle();
  const hostKey = await ensureHostKey(cacheDir);
  const hashes = new FileHashCache(cacheDir);
  const hashOf = async (p: string) => (await hashes.hash(p)).sha256;
  const toolHashes: Record<string, string> = {};
  for (const t of tools) toolHashes[t.dest] = await hashOf(t.src);
  const inputs = {
    buildVersion: IMAGE_BUILD_VERSION,
    image: identified.imageId,
    launch,
    busybox: await hashOf(busybox),
    tools: toolHashes,
    hostKey: await hashOf(hostKey),
    kernel: { package: kernel.package, version: kernel.version, release: kernel.release, modules: kernel.modules.map((m) => m.name) },
    initramfsInit: initramfsInitScript(kernel.modules.map((m) => m.name), IMAGE_INIT_PATH),
    init: imageInitScript(launch, ANY_USER, '/root'),
    digestVolatileDirs: [...VOLATILE_DIRS],
  };
  await hashes.save();
  const id = sha256Json(inputs);
  const dir = artifactDir(cacheDir, id);
  const cached = opts.force ? undefined : await readManifest(dir);
  if (cached && cached.id === id && cached.image) {
    const img = await complete(cached, docker, id);
    if (img && img.digest === cached.rootfsDigest) {
      cachedStep(onProgress, 'artifact', `${id.slice(0, 12)} (image ${source.ref})`);
      return { ...cached, docker: { image: img.image, imageId: img.imageId, sizeBytes: img.sizeBytes } };
    }
  }

  requireRoot('building an image workload artifact');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ARTIFACT_FILES.inputs), `${JSON.stringify(inputs, null, 2)}\n`);
  if (opts.force) await rm(join(dir, ARTIFACT_FILES.manifest), { force: true });
  const files = { disk: join(dir, ARTIFACT_FILES.disk), kernel: join(dir, ARTIFACT_FILES.kernel), initrd: join(dir, ARTIFACT_FILES.initrd) };
  await placeFile(kernel.vmlinuz, files.kernel);
  const initrdBytes = await timedStep(onProgress, 'initramfs', `${kernel.modules.length} modules, init ${IMAGE_INIT_PATH}`, () =>
    buildInitramfs({ busybox, modules: kernel.modules, initPath: IMAGE_INIT_PATH }, files.initrd),
  );

  const scratch = await makeScratchDir(cacheDir, 'image');
  let digest: string;
  let user: ResolvedUser;
  try {
    const root = join(scratch, 'rootfs');
    await mkdir(root, { mode: 0o755 });
    const layers = await timedStep(onProgress, 'image-layers', `${source.format} ${source.ref}`, () => imageLayers(source, docker, scratch), (l) => `${l.length} layers`);
    await timedStep(onProgress, 'image-flatten', `${layers.length} layers, whiteouts applied`, () => applyLayers(root, layers, scratch));
    await rm(join(scratch, 'archive'), { recursive: true, force: true });
    await rm(join(scratch, 'image.tar'), { force: true });
    const read = async (p: string) => readFile(await hostPathIn(root, p), 'utf8').catch(() => '');
    user = resolveUser(launch.user, await read('/etc/passwd'), await read('/etc/group'), source.ref);
    await mkdir(await hostPathIn(root, launch.workingDir), { recursive: true });
    const passwd = await read('/etc/passwd');
    await installGuestBits(root, { busybox, hostKey, tools, init: imageInitScript(launch, user, passwd ? rootHome(passwd) : '/root') });
    const digestHost = await hostPathIn(root, GUEST_DIGEST_FILE);
    await mkdir(dirname(digestHost), { recursive: true });
    await rm(digestHost, { force: true });
    await fixMtimes(root);
    digest = await timedStep(onProgress, 'rootfs', 'digest of the flattened image + guest bits', () => computeRootfsDigest(root), (d) => `digest ${d.slice(0, 12)}`);
    await writeFile(digestHost, `${digest}\n`);
    await lutimes(digestHost, FIXED_MTIME_S, FIXED_MTIME_S);
    await lutimes(dirname(digestHost), FIXED_MTIME_S, FIXED_MTIME_S);
    const changes = imageArtifactChanges(launch, id, digest, identified.imageId);
    await timedStep(onProgress, 'docker-image', `import ${IMAGE_REPO}:${id.slice(0, 12)}`, () => importRootfsImage(docker, root, id, digest, changes), (i) => `${i.image} ${(i.sizeBytes / 2 ** 20).toFixed(0)} MiB`);
    await timedStep(onProgress, 'disk', 'mkfs.ext4 -d + qemu-img convert', () => buildDisk(root, files.disk, { scratchDir: scratch, artifactId: id }), (d) => `${(d.diskBytes / 2 ** 20).toFixed(0)} MiB qcow2`);
  } finally {
    await removeScratchDir(scratch);
  }
  const img = await findArtifactImage(docker, id);
  if (!img) throw new BenchError('internal', 'image artifact build ended without its Docker image');
  const artifact: Artifact = {
    id,
    rootfsDigest: digest,
    dir,
    docker: { image: img.image, imageId: img.imageId, sizeBytes: img.sizeBytes },
    vm: {
      disk: files.disk,
      kernel: files.kernel,
      initrd: files.initrd,
      kernelVersion: kernel.release,
      diskBytes: (await stat(files.disk)).blocks * 512,
      kernelBytes: (await stat(files.kernel)).size,
      initrdBytes,
    },
    model: { name: opts.modelName ?? source.ref, source: `image:${source.ref}`, sha256: identified.imageId.replace(/^sha256:/, ''), bytes: img.sizeBytes },
    debianSuite: '',
    createdAt: new Date().toISOString(),
    image: { source, imageId: identified.imageId, launch, user },
  };
  const manifest = join(dir, ARTIFACT_FILES.manifest);
  await writeFile(`${manifest}.tmp`, `${JSON.stringify(artifact, null, 2)}\n`);
  await rename(`${manifest}.tmp`, manifest);
  return artifact;
}
