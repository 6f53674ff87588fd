import type Dockerode from 'dockerode';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Artifact } from '../artifact.js';
import { BenchError } from '../../errors.js';
import { serverSourceDir } from '../../paths.js';
import { hostDebianMirror } from './rootfs/apt-sources.js';
import { baseHash, baseSpec, ensureBase, requireRoot } from './rootfs/base.js';
import { withBuildLock } from './build-lock.js';
import { hostStaticBusybox } from './rootfs/busybox.js';
import { VOLATILE_DIRS } from './rootfs/digest.js';
import { buildDisk } from './vm/disk.js';
import { findArtifactImage, importRootfsImage, type ImageInfo } from './docker-image.js';
import { FileHashCache, sha256Json } from './file-hash.js';
import { guestInitScript, poweroffScript } from './rootfs/guest-init.js';
import { ensureHostKey } from './rootfs/host-key.js';
import { buildInitramfs, initramfsInitScript } from './vm/initramfs.js';
import { ensureKernel, type KernelInfo } from './vm/kernel.js';
import { resolveModelInput, type ModelResolver } from './model-input.js';
import { ortRuntimeFiles } from './rootfs/ort-files.js';
import { cachedStep, timedStep, type ProgressFn } from './progress.js';
import { assembleRootfs, rootfsTextFiles } from './rootfs/rootfs.js';
import { makeScratchDir, removeScratchDir } from './scratch.js';
import { buildVagrantBox, readVagrantBox } from './vm/vagrant-box.js';
import { planGpuArtifact, type GpuArtifactOptions, type GpuArtifactPlan } from './gpu-artifact.js';
import { ortNodeDir } from './rootfs/ort-files.js';

export type { BuildProgressEvent, ProgressFn } from './progress.js';

/** Bump when the artifact recipe changes in a way the hashed inputs do not show. */
export const BUILD_VERSION = 'vmbench-artifact-1';
/** Files of src/workload/server/ that must exist; every *.mjs there is copied to /app. */
export const REQUIRED_SERVER_FILES = [
  'server.mjs',
  'engine.mjs',
  'http-util.mjs',
  'request-codec.mjs',
  'log.mjs',
  'isolation.mjs',
  'infer-worker.mjs',
  'gpu.mjs',
] as const;

export const ARTIFACT_FILES = {
  manifest: 'manifest.json',
  inputs: 'inputs.json',
  disk: 'disk.qcow2',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
} as const;

export interface BuildArtifactOptions {
  cacheDir: string;
  /** 'resnet18' | 'resnet50' | path to an .onnx file */
  model: string;
  /** Seed of a generated model (ensureModel's default when absent). */
  seed?: number;
  docker: Dockerode;
  onProgress?: ProgressFn;
  /** Rebuild rootfs, image, disk and initramfs even if cached (base and kernel caches are kept). */
  force?: boolean;
  /** Also pack (or find) the Vagrant box made from the artifact (artifact.vagrant). */
  vagrantBox?: boolean;
  /** workload.device: gpu — build the GPU artifact (gpu-artifact.ts). */
  gpu?: GpuArtifactOptions;
  /** Test hooks: where the server files come from, which node binary, how models resolve. */
  serverDir?: string;
  nodeBinary?: string;
  resolveModel?: ModelResolver;
}

export function artifactsRoot(cacheDir: string): string {
  return join(resolve(cacheDir), 'artifacts');
}

export function artifactDir(cacheDir: string, id: string): string {
  return join(artifactsRoot(cacheDir), id);
}

export async function readManifest(dir: string): Promise<Artifact | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, ARTIFACT_FILES.manifest), 'utf8')) as Artifact;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function serverFiles(dir: string): Promise<Array<{ name: string; src: string }>> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.mjs')).sort();
  for (const req of REQUIRED_SERVER_FILES) {
    if (!names.includes(req)) {
      throw new BenchError('internal', `workload server file ${join(dir, req)} is missing`, {
        hint: 'restore src/workload/server/ from git',
      });
    }
  }
  return names.map((name) => ({ name, src: join(dir, name) }));
}

export async function placeFile(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await link(src, tmp).catch(() => copyFile(src, tmp));
  await rename(tmp, dest);
  // rename() of two links to one file does nothing (POSIX): a rebuild would leave tmp behind.
  await rm(tmp, { force: true });
}

interface Plan {
  id: string;
  inputs: Record<string, unknown>;
  kernel: KernelInfo;
  model: Awaited<ReturnType<typeof resolveModelInput>>;
  suite: string;
  base: ReturnType<typeof baseSpec>;
  busybox: string;
  hostKey: string;
  nodeBinary: string;
  server: Array<{ name: string; src: string }>;
  ortFiles: Awaited<ReturnType<typeof ortRuntimeFiles>>['files'];
  gpu?: GpuArtifactPlan;
}

/** Everything the artifact is made of, hashed (cheaply: big files through the hash cache) into its id. */
async function planArtifact(opts: BuildArtifactOptions, cacheDir: string): Promise<Plan> {
  const hashes = new FileHashCache(cacheDir);
  const mirror = await hostDebianMirror();
  const base = baseSpec(mirror);
  const busybox = await hostStaticBusybox();
  const kernel = await ensureKernel(cacheDir, { onProgress: opts.onProgress });
  const model = await resolveModelInput(opts.model, cacheDir, opts.seed, opts.resolveModel);
  const server = await serverFiles(opts.serverDir ?? serverSourceDir());
  const ort = await ortRuntimeFiles();
  const gpu = opts.gpu ? await planGpuArtifact(opts.gpu, { nodeDir: ortNodeDir(), version: ort.version }, kernel.release) : undefined;
  const hostKey = await ensureHostKey(cacheDir);
  const nodeBinary = opts.nodeBinary ?? process.execPath;

  const hashOf = async (p: string) => (await hashes.hash(p)).sha256;
  const serverHashes: Record<string, string> = {};
  for (const f of server) serverHashes[f.name] = await hashOf(f.src);
  const ortHashes: Record<string, string> = {};
  for (const f of [...ort.files, ...(gpu?.files ?? [])]) ortHashes[f.dest] = await hashOf(f.src);
  const inputs = {
    buildVersion: BUILD_VERSION,
    base: baseHash(base),
    server: serverHashes,
    onnxruntime: { version: ort.version, files: ortHashes },
    node: { sha256: await hashOf(nodeBinary), version: opts.nodeBinary ? 'custom' : process.version },
    busybox: await hashOf(busybox),
    hostKey: await hashOf(hostKey),
    model: { sha256: model.sha256, name: model.name },
    kernel: { package: kernel.package, version: kernel.version, release: kernel.release, modules: kernel.modules.map((m) => m.name) },
    initramfsInit: initramfsInitScript(kernel.modules.map((m) => m.name)),
    guestInit: guestInitScript(),
    poweroff: poweroffScript(),
    rootfsFiles: rootfsTextFiles(gpu !== undefined).map((t) => [t.path, t.mode, t.text]),
    digestVolatileDirs: [...VOLATILE_DIRS],
    // Only on the GPU artifact, so CPU artifact ids stay what they were.
    ...(gpu ? { gpu: gpu.inputs } : {}),
  };
  await hashes.save();
  return {
    id: sha256Json(inputs),
    inputs,
    kernel,
    model,
    suite: mirror.suite,
    base,
    busybox,
    hostKey,
    nodeBinary,
    server,
    ortFiles: [...ort.files, ...(gpu?.files ?? [])],
    ...(gpu ? { gpu } : {}),
  };
}

/** Whether a manifest's files and image are all still there. */
export async function complete(m: Artifact, docker: Dockerode, id: string): Promise<ImageInfo | undefined> {
  for (const p of [m.vm.disk, m.vm.kernel, m.vm.initrd]) if (!(await exists(p))) return undefined;
  return findArtifactImage(docker, id);
}

/**
 * Build (or find in the cache) the workload artifact for `opts.model`: one
 * rootfs exposed as the Docker image vmbench/workload:<id12> and as a VM disk
 * + cloud kernel + initramfs, described by <cacheDir>/artifacts/<id>/manifest.json.
 */
export async function buildArtifact(opts: BuildArtifactOptions): Promise<Artifact> {
  const cacheDir = resolve(opts.cacheDir);
  await mkdir(cacheDir, { recursive: true });
  return withBuildLock(cacheDir, async () => {
    const artifact = await buildLocked(opts, cacheDir);
    if (!opts.vagrantBox) return artifact;
    const have = opts.force ? undefined : await readVagrantBox(artifact);
    if (have) {
      cachedStep(opts.onProgress, 'vagrant-box', have.name);
      return { ...artifact, vagrant: have };
    }
    const box = await timedStep(opts.onProgress, 'vagrant-box', 'tar of disk + kernel + initramfs', () => buildVagrantBox(artifact, { force: opts.force }), (b) => `${b.name} (${(b.bytes / 2 ** 20).toFixed(0)} MiB)`);
    return { ...artifact, vagrant: box };
  });
}

async function buildLocked(opts: BuildArtifactOptions, cacheDir: string): Promise<Artifact> {
  const { onProgress } = opts;
  const plan = await planArtifact(opts, cacheDir);
  const { id } = plan;
  const dir = artifactDir(cacheDir, id);

  const cached = opts.force ? undefined : await readManifest(dir);
  if (cached && cached.id === id) {
    const img = await complete(cached, opts.docker, id);
    if (img && img.digest === cached.rootfsDigest) {
      cachedStep(onProgress, 'artifact', id.slice(0, 12));
      return { ...cached, docker: { image: img.image, imageId: img.imageId, sizeBytes: img.sizeBytes } };
    }
  }

  requireRoot('building the workload artifact');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ARTIFACT_FILES.inputs), `${JSON.stringify(plan.inputs, null, 2)}\n`);
  const files = {
    disk: join(dir, ARTIFACT_FILES.disk),
    kernel: join(dir, ARTIFACT_FILES.kernel),
    initrd: join(dir, ARTIFACT_FILES.initrd),
  };
  if (opts.force) await rm(join(dir, ARTIFACT_FILES.manifest), { force: true });

  await placeFile(plan.kernel.vmlinuz, files.kernel);
  const initrdBytes = await timedStep(onProgress, 'initramfs', `${plan.kernel.modules.length} modules`, () =>
    buildInitramfs({ busybox: plan.busybox, modules: plan.kernel.modules }, files.initrd),
  );

  let image = opts.force ? undefined : await findArtifactImage(opts.docker, id);
  const haveDisk = !opts.force && (await exists(files.disk));
  let digest = image?.digest;
  if (!image || !haveDisk) {
    const base = await ensureBase(cacheDir, plan.base, { onProgress, force: false });
    const scratch = await makeScratchDir(cacheDir, 'rootfs');
    try {
      const root = join(scratch, 'rootfs');
      await mkdir(root);
      const r = await timedStep(onProgress, 'rootfs', `node + onnxruntime + ${plan.model.name}`, () =>
        assembleRootfs(root, {
          baseTarball: base.tarball,
          nodeBinary: plan.nodeBinary,
          serverFiles: plan.server,
          ortFiles: plan.ortFiles,
          modelFile: plan.model.path,
          busybox: plan.busybox,
          hostKey: plan.hostKey,
          gpu: plan.gpu !== undefined,
        }),
        (res) => `digest ${res.digest.slice(0, 12)}`,
      );
      if (digest !== undefined && digest !== r.digest) image = undefined; // image from an older, different build
      digest = r.digest;
      if (!image) {
        image = await timedStep(onProgress, 'docker-image', `import vmbench/workload:${id.slice(0, 12)}`, () =>
          importRootfsImage(opts.docker, root, id, r.digest),
          (i) => `${i.image} ${(i.sizeBytes / 2 ** 20).toFixed(0)} MiB`,
        );
      } else {
        cachedStep(onProgress, 'docker-image', image.image);
      }
      if (!haveDisk) {
        await timedStep(onProgress, 'disk', 'mkfs.ext4 -d + qemu-img convert', () =>
          buildDisk(root, files.disk, { scratchDir: scratch, artifactId: id }),
          (d) => `${(d.diskBytes / 2 ** 20).toFixed(0)} MiB qcow2`,
        );
      } else {
        cachedStep(onProgress, 'disk', files.disk);
      }
    } finally {
      await removeScratchDir(scratch);
    }
  } else {
    cachedStep(onProgress, 'docker-image', image.image);
    cachedStep(onProgress, 'disk', files.disk);
  }
  if (!image || !digest) throw new BenchError('internal', 'artifact build ended without an image');

  const artifact: Artifact = {
    id,
    rootfsDigest: digest,
    dir,
    docker: { image: image.image, imageId: image.imageId, sizeBytes: image.sizeBytes },
    vm: {
      disk: files.disk,
      kernel: files.kernel,
      initrd: files.initrd,
      kernelVersion: plan.kernel.release,
      diskBytes: (await stat(files.disk)).blocks * 512,
      kernelBytes: (await stat(files.kernel)).size,
      initrdBytes,
    },
    model: { name: plan.model.name, source: plan.model.source, sha256: plan.model.sha256, bytes: plan.model.bytes },
    debianSuite: plan.suite,
    createdAt: new Date().toISOString(),
    ...(plan.gpu ? { gpu: plan.gpu.info } : {}),
  };
  const manifest = join(dir, ARTIFACT_FILES.manifest);
  await writeFile(`${manifest}.tmp`, `${JSON.stringify(artifact, null, 2)}\n`);
  await rename(`${manifest}.tmp`, manifest);
  return artifact;
}
