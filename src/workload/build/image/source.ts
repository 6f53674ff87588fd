import type Dockerode from 'dockerode';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BenchError } from '../../../errors.js';
import type { ImageSource } from '../../image-workload.js';
import { dockerError } from '../docker-image.js';
import { runCommand } from '../exec.js';
import type { ImageRuntimeConfig } from './launch.js';

/**
 * The three places an image can come from, read the same way: its config
 * (what starts the server) and, when the artifact is built, its layer tars.
 *
 *  - engine:          an image in the local Docker Engine (`docker save`d to scratch to get its layers)
 *  - docker-archive:  a `docker save` tar (manifest.json + config + layer tars; also the OCI-shaped save of newer engines)
 *  - oci-layout:      an OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>)
 *
 * The image's id is its config's digest (what `docker images --no-trunc`
 * shows), so an image and its `docker save` on another machine are the same
 * image to the artifact cache.
 */

/** The image config file (OCI image-spec config / Docker's image JSON). */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  config?: ImageRuntimeConfig | null;
}

export interface IdentifiedImage {
  /** sha256:<hex> of the config. */
  imageId: string;
  config: ImageConfigFile;
}

interface SaveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { architecture?: string; os?: string };
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function badImage(ref: string, why: string, cause?: unknown): BenchError {
  return new BenchError('input', `image ${ref}: ${why}`, {
    hint: 'workload.image takes an image in the local engine (docker images), a `docker save` archive or an OCI image layout directory',
    cause,
  });
}

function parseJsonOf<T>(ref: string, what: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw badImage(ref, `${what} is not JSON`, err);
  }
}

function checkPlatform(ref: string, c: ImageConfigFile): void {
  if ((c.os && c.os !== 'linux') || (c.architecture && c.architecture !== 'amd64')) {
    throw badImage(ref, `it is a ${c.os ?? '?'}/${c.architecture ?? '?'} image; this host runs linux/amd64 instances`);
  }
}

/**
 * One member of a tar, read without unpacking the rest. `docker save` names
 * members `manifest.json`; an archive re-made with `tar -C dir .` names them
 * `./manifest.json`: both are tried, and a member in neither is an error
 * (not an empty file).
 */
async function tarMember(archive: string, member: string, ref: string): Promise<Buffer> {
  let first: unknown;
  for (const name of [member, `./${member}`]) {
    try {
      const res = await execa('tar', ['-xOf', archive, name], { encoding: 'buffer', stdin: 'ignore' });
      return Buffer.from(res.stdout);
    } catch (err) {
      first ??= err;
    }
  }
  const stderr = Buffer.from((first as { stderr?: Uint8Array }).stderr ?? new Uint8Array()).toString().trim().split('\n')[0];
  throw badImage(ref, `cannot read ${member} from the archive${stderr ? ` (${stderr})` : ''}`, first);
}

function saveEntry(ref: string, text: string): SaveManifestEntry {
  const list = parseJsonOf<SaveManifestEntry[]>(ref, 'manifest.json', text);
  if (!Array.isArray(list) || list.length !== 1 || typeof list[0]?.Config !== 'string' || !Array.isArray(list[0].Layers)) {
    throw badImage(ref, `expected a docker save archive of exactly one image (manifest.json lists ${Array.isArray(list) ? list.length : 'no'} images)`);
  }
  return list[0];
}

/** The OCI image manifest an index (or nested index) points at for linux/amd64. */
async function ociManifest(dir: string, ref: string): Promise<{ config: Descriptor; layers: Descriptor[] }> {
  const blob = async (d: Descriptor): Promise<Buffer> => {
    const [alg, hex] = d.digest.split(':');
    const data = await readFile(join(dir, 'blobs', alg ?? '', hex ?? '')).catch((err: unknown) => {
      throw badImage(ref, `blob ${d.digest} is missing from the layout`, err);
    });
    if (alg === 'sha256' && sha256(data) !== d.digest) throw badImage(ref, `blob ${d.digest} does not match its digest`);
    return data;
  };
  const layout = parseJsonOf<{ imageLayoutVersion?: string }>(ref, 'oci-layout', await readFile(join(dir, 'oci-layout'), 'utf8'));
  if (!layout.imageLayoutVersion) throw badImage(ref, 'oci-layout has no imageLayoutVersion');
  let index = parseJsonOf<{ manifests?: Descriptor[] }>(ref, 'index.json', await readFile(join(dir, 'index.json'), 'utf8'));
  for (let depth = 0; depth < 4; depth++) {
    const all = index.manifests ?? [];
    const pick = all.length === 1 ? all[0] : all.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
    if (!pick) throw badImage(ref, `index.json has ${all.length} manifests and none for linux/amd64`);
    const doc = parseJsonOf<{ mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(ref, `manifest ${pick.digest}`, (await blob(pick)).toString());
    if (pick.mediaType === OCI_INDEX || pick.mediaType === DOCKER_LIST || doc.manifests) {
      index = doc;
      continue;
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw badImage(ref, `manifest ${pick.digest} has no config or layers`);
    return { config: doc.config, layers: doc.layers };
  }
  throw badImage(ref, 'image indexes nest too deep');
}

export function ociBlobPath(dir: string, d: Descriptor): string {
  const [alg, hex] = d.digest.split(':');
  return join(dir, 'blobs', alg ?? '', hex ?? '');
}

/** The image's id and config, without unpacking its layers. */
export async function identifyImage(source: ImageSource, docker: Dockerode): Promise<IdentifiedImage> {
  const { ref } = source;
  if (source.format === 'engine') {
    let info: Dockerode.ImageInspectInfo;
    try {
      info = await docker.getImage(ref).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw badImage(ref, 'no such image in the local Docker Engine (nothing is pulled: there is no registry here)', err);
      }
      throw dockerError(err, `inspecting ${ref}`);
    }
    const config: ImageConfigFile = { architecture: info.Architecture, os: info.Os, config: info.Config as ImageRuntimeConfig };
    checkPlatform(ref, config);
    return { imageId: info.Id, config };
  }
  if (source.format === 'docker-archive') {
    const entry = saveEntry(ref, (await tarMember(ref, 'manifest.json', ref)).toString());
    const data = await tarMember(ref, entry.Config, ref);
    const config = parseJsonOf<ImageConfigFile>(ref, entry.Config, data.toString());
    checkPlatform(ref, config);
    return { imageId: sha256(data), config };
  }
  const m = await ociManifest(ref, ref);
  const data = await readFile(ociBlobPath(ref, m.config));
  if (sha256(data) !== m.config.digest) throw badImage(ref, `config blob ${m.config.digest} does not match its digest`);
  const config = parseJsonOf<ImageConfigFile>(ref, 'the config blob', data.toString());
  checkPlatform(ref, config);
  return { imageId: m.config.digest, config };
}

/**
 * The image's layer files, lowest first, ready for applyLayers(): an engine
 * image is saved into `scratchDir`, an archive unpacked there (its members
 * are plain files), an OCI layout read in place (layer digests verified).
 */
export async function imageLayers(source: ImageSource, docker: Dockerode, scratchDir: string): Promise<string[]> {
  const { ref } = source;
  if (source.format === 'oci-layout') {
    const m = await ociManifest(ref, ref);
    const out: string[] = [];
    for (const l of m.layers) {
      const p = ociBlobPath(ref, l);
      if ((await fileDigest(p).catch(() => '')) !== l.digest) throw badImage(ref, `layer ${l.digest} is missing or does not match its digest`);
      out.push(p);
    }
    return out;
  }
  let archive = ref;
  if (source.format === 'engine') {
    archive = join(scratchDir, 'image.tar');
    try {
      await pipeline(await docker.getImage(ref).get(), createWriteStream(archive));
    } catch (err) {
      throw dockerError(err, `saving ${ref}`);
    }
  }
  const dir = join(scratchDir, 'archive');
  await mkdir(dir, { recursive: true });
  await runCommand('tar', ['-xf', archive, '-C', dir], { what: `tar -x (image archive ${ref})` });
  const entry = saveEntry(ref, await readFile(join(dir, 'manifest.json'), 'utf8'));
  const layers = entry.Layers.map((l) => join(dir, l));
  for (const l of layers) if (!(await stat(l).catch(() => undefined))) throw badImage(ref, `layer ${l} listed in manifest.json is missing`);
  return layers;
}

/** Which kind of source a path or reference is: an existing file is an archive, a directory a layout, else an engine image. */
export async function classifyImageRef(ref: string, resolvedPath: string | null): Promise<ImageSource> {
  const st = resolvedPath ? await stat(resolvedPath).catch(() => undefined) : undefined;
  if (st?.isFile()) return { format: 'docker-archive', ref: resolvedPath! };
  if (st?.isDirectory()) return { format: 'oci-layout', ref: resolvedPath! };
  return { format: 'engine', ref };
}
