/**
 * Builds the example server's image on this machine from Debian packages —
 * no registry, no base image: debootstrap minbase + python3 + python3-numpy
 * (cached like vmbench's own base, apt downloads shared), server.py, and a
 * non-root user, imported into the local Docker Engine as
 * vmbench-example/python-v2:<id12> and :latest. Optionally written out the
 * two other ways vmbench takes an image: `docker save` (--save file.tar) and
 * an OCI image layout with gzip'ed layers (--oci dir).
 *
 *   npx tsx examples/python-v2-server/build.ts [--save out.tar] [--oci out-dir] [--cache .bench]
 *
 * Nothing in the image knows vmbench: it is the "your own server" of the tests.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { defaultCacheDir } from '../../src/paths.js';
import { runCommand } from '../../src/workload/build/exec.js';
import { importTree } from '../../src/workload/build/docker-image.js';
import { sha256Json } from '../../src/workload/build/file-hash.js';
import { baseHash, baseSpec, ensureBase } from '../../src/workload/build/rootfs/base.js';
import { hostDebianMirror } from '../../src/workload/build/rootfs/apt-sources.js';
import { fixMtimes } from '../../src/workload/build/rootfs/digest.js';
import { makeScratchDir, removeScratchDir } from '../../src/workload/build/scratch.js';

export const EXAMPLE_REPO = 'vmbench-example/python-v2';
export const EXAMPLE_LABEL = 'vmbench.example';
export const EXAMPLE_MODEL = 'dense';
export const EXAMPLE_PORT = 8000;
/** Bump when the recipe below changes in a way its hashed inputs do not show. */
const RECIPE = 'python-v2-example-2';
const PACKAGES = ['python3', 'python3-numpy'];
const SERVER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'server.py');
/** The server runs as this user in the image (uid/gid 1000), as many real images do. */
const USER = { name: 'model', uid: 1000, gid: 1000, home: '/srv' };

export interface ExampleImage {
  /** vmbench-example/python-v2:<id12> */
  image: string;
  imageId: string;
  cached: boolean;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Build (or find) the example image in the local engine. Needs root (debootstrap). */
export async function buildPythonServerImage(docker: Dockerode, cacheDir: string, log: (l: string) => void = () => {}): Promise<ExampleImage> {
  const mirror = await hostDebianMirror();
  const spec = { ...baseSpec(mirror), packages: PACKAGES, version: 'vmbench-example-python-base-1' };
  const id = sha256Json({ recipe: RECIPE, base: baseHash(spec), server: await sha256File(SERVER_SOURCE), user: USER });
  const image = `${EXAMPLE_REPO}:${id.slice(0, 12)}`;
  const have = await docker.getImage(image).inspect().catch(() => undefined);
  if (have?.Config?.Labels?.[EXAMPLE_LABEL] === id) {
    await docker.getImage(image).tag({ repo: EXAMPLE_REPO, tag: 'latest' });
    return { image, imageId: have.Id, cached: true };
  }
  const base = await ensureBase(cacheDir, spec, {
    mustHave: 'usr/bin/python3',
    onProgress: (e) => e.status !== 'start' && log(`${e.step}: ${e.status}${e.detail ? ` ${e.detail}` : ''}`),
  });
  const scratch = await makeScratchDir(cacheDir, 'python-example');
  try {
    const root = join(scratch, 'rootfs');
    await mkdir(root);
    await runCommand('tar', ['--numeric-owner', '-xpf', base.tarball, '-C', root], { what: 'tar -x (example base)' });
    await mkdir(join(root, 'srv'), { recursive: true });
    await copyFile(SERVER_SOURCE, join(root, 'srv/server.py'));
    await appendFile(join(root, 'etc/passwd'), `${USER.name}:x:${USER.uid}:${USER.gid}:model server:${USER.home}:/usr/sbin/nologin\n`);
    await appendFile(join(root, 'etc/group'), `${USER.name}:x:${USER.gid}:\n`);
    await fixMtimes(root);
    await importTree(docker, root, {
      repo: EXAMPLE_REPO,
      tag: id.slice(0, 12),
      changes: [
        `CMD ${JSON.stringify(['python3', '-B', '/srv/server.py'])}`,
        'WORKDIR /srv',
        `USER ${USER.name}`,
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'ENV PYTHONUNBUFFERED=1',
        // One BLAS thread: the answer is then the same whatever CPUs an instance gets.
        'ENV OPENBLAS_NUM_THREADS=1',
        // numpy's AVX2/FMA3 loops crash (SIGSEGV in the model's 512×512 layer) under QEMU 7.2's
        // TCG emulation of those instructions: both substrates run numpy's SSE loops instead.
        'ENV NPY_DISABLE_CPU_FEATURES="AVX2 FMA3 F16C AVX"',
        `ENV MODEL_NAME=${EXAMPLE_MODEL}`,
        `EXPOSE ${EXAMPLE_PORT}`,
        `LABEL ${EXAMPLE_LABEL}=${id}`,
      ],
    });
  } finally {
    await removeScratchDir(scratch);
  }
  await docker.getImage(image).tag({ repo: EXAMPLE_REPO, tag: 'latest' });
  const info = await docker.getImage(image).inspect();
  return { image, imageId: info.Id, cached: false };
}

/** `docker save` of an image to a file (what a user copies from another machine). */
export async function saveImage(docker: Dockerode, image: string, file: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await pipeline(await docker.getImage(image).get(), createWriteStream(tmp));
  await runCommand('mv', [tmp, file]);
}

interface SaveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * An OCI image layout (oci-layout, index.json, blobs/sha256/…) from a
 * `docker save` archive, layers gzip'ed — what `skopeo copy
 * docker-archive:x.tar oci:dir` writes, done with tar and gzip.
 */
export async function dockerArchiveToOciLayout(archive: string, dir: string, refName = 'latest'): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const unpacked = join(dir, '.unpacked');
  await mkdir(unpacked);
  await runCommand('tar', ['-xf', archive, '-C', unpacked]);
  const entry = (JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8')) as SaveManifestEntry[])[0];
  if (!entry) throw new Error(`${archive}: manifest.json lists no image`);
  const blob = async (src: string): Promise<{ digest: string; size: number }> => {
    const digest = await sha256File(src);
    await copyFile(src, join(blobs, digest));
    return { digest: `sha256:${digest}`, size: (await stat(src)).size };
  };
  const config = await blob(join(unpacked, entry.Config));
  const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
  for (const l of entry.Layers) {
    const gz = join(unpacked, `${l}.gz`);
    await runCommand('sh', ['-c', 'gzip -n -c "$1" > "$2"', 'gzip', join(unpacked, l), gz]);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await blob(gz)) });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers,
    }),
  );
  const manifestDigest = createHash('sha256').update(manifest).digest('hex');
  await writeFile(join(blobs, manifestDigest), manifest);
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${manifestDigest}`,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': refName },
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    }),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await rm(unpacked, { recursive: true, force: true });
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const docker = new Dockerode();
  const cacheDir = resolve(flag(args, '--cache') ?? defaultCacheDir());
  const built = await buildPythonServerImage(docker, cacheDir, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(`${built.image} (${EXAMPLE_REPO}:latest) ${built.cached ? 'already built' : 'built'}: ${built.imageId}\n`);
  const save = flag(args, '--save');
  if (save) {
    await saveImage(docker, built.image, resolve(save));
    process.stdout.write(`docker save → ${resolve(save)}\n`);
  }
  const oci = flag(args, '--oci');
  if (oci) {
    const archive = save ? resolve(save) : join(cacheDir, 'tmp', `python-example-${process.pid}.tar`);
    if (!save) await saveImage(docker, built.image, archive);
    await dockerArchiveToOciLayout(archive, resolve(oci), built.image.split(':')[1]);
    if (!save) await rm(archive, { force: true });
    process.stdout.write(`OCI image layout → ${resolve(oci)}\n`);
  }
}
