import type Dockerode from 'dockerode';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BenchError } from '../../../../src/errors.js';
import { classifyImageRef, identifyImage, imageLayers } from '../../../../src/workload/build/image/source.js';

/**
 * The two file forms of an image, made by hand the way `docker save` and an
 * OCI image layout lay them out, read without an engine (the engine form is
 * covered by the integration test with a real `docker save`).
 */

const noEngine = {} as Dockerode;
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'image-source-test-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const configOf = (extra: object = {}) =>
  JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/srv/run'], ExposedPorts: { '8000/tcp': {} } }, rootfs: { type: 'layers', diff_ids: [] }, ...extra });

async function layerTar(name: string, file: string): Promise<Buffer> {
  const src = join(work, `l-${name}`);
  await mkdir(src);
  await writeFile(join(src, file), name);
  const out = join(work, `l-${name}.tar`);
  execFileSync('tar', ['-cf', out, '-C', src, '.']);
  return readFile(out);
}

async function dockerArchive(manifest: unknown, files: Record<string, Buffer | string>): Promise<string> {
  const dir = join(work, 'save');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const [p, data] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), data);
  }
  const tar = join(work, 'image.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, '.']);
  return tar;
}

/** An OCI layout; `index` picks what index.json lists (default: the one manifest). */
async function ociLayout(config: string, layers: Buffer[], opts: { nest?: boolean; corrupt?: boolean } = {}): Promise<string> {
  const dir = join(work, 'oci');
  const blobs = join(dir, 'blobs/sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: Buffer | string) => {
    const d = sha(data);
    await writeFile(join(blobs, d), data);
    return { digest: `sha256:${d}`, size: Buffer.byteLength(data) };
  };
  const cfg = await put(config);
  const ls = [];
  for (const l of layers) ls.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...(await put(l)) });
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: ls };
  const m = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...(await put(JSON.stringify(manifest))) };
  let top: object[] = [m];
  if (opts.nest) {
    const arm = { mediaType: m.mediaType, ...(await put('{"schemaVersion":2}')), platform: { os: 'linux', architecture: 'arm64' } };
    const inner = { schemaVersion: 2, manifests: [arm, { ...m, platform: { os: 'linux', architecture: 'amd64' } }] };
    top = [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...(await put(JSON.stringify(inner))) }];
  }
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: top }));
  if (opts.corrupt) await writeFile(join(blobs, ls[0]!.digest.slice(7)), 'tampered');
  return dir;
}

describe('image sources without an engine', () => {
  it('classifies a file as a docker save archive, a directory as an OCI layout, anything else as an engine image', async () => {
    await writeFile(join(work, 'a.tar'), '');
    expect(await classifyImageRef('./a.tar', join(work, 'a.tar'))).toEqual({ format: 'docker-archive', ref: join(work, 'a.tar') });
    expect(await classifyImageRef('./d', work)).toEqual({ format: 'oci-layout', ref: work });
    expect(await classifyImageRef('repo/x:1', join(work, 'repo/x:1'))).toEqual({ format: 'engine', ref: 'repo/x:1' });
    expect(await classifyImageRef('repo/x:1', null)).toEqual({ format: 'engine', ref: 'repo/x:1' });
  });

  it('docker save archive: the id is the digest of its config (as `docker images --no-trunc` shows), layers in manifest order', async () => {
    const config = configOf();
    const id = sha(config);
    const [a, b] = [await layerTar('a', 'fa'), await layerTar('b', 'fb')];
    const tar = await dockerArchive([{ Config: `${id}.json`, RepoTags: ['me/server:1'], Layers: ['la/layer.tar', 'lb/layer.tar'] }], {
      [`${id}.json`]: config,
      'la/layer.tar': a,
      'lb/layer.tar': b,
    });
    const source = { format: 'docker-archive' as const, ref: tar };
    const got = await identifyImage(source, noEngine);
    expect(got.imageId).toBe(`sha256:${id}`);
    expect(got.config.config?.Cmd).toEqual(['/srv/run']);
    const scratch = join(work, 'scratch');
    const layers = await imageLayers(source, noEngine, scratch);
    expect(layers).toEqual([join(scratch, 'archive/la/layer.tar'), join(scratch, 'archive/lb/layer.tar')]);
    expect(await readFile(layers[1]!)).toEqual(b);
  });

  it('docker save archive: refuses several images, a foreign platform, and a missing layer, naming the archive', async () => {
    const config = configOf();
    const id = sha(config);
    const two = await dockerArchive([{ Config: `${id}.json`, Layers: [] }, { Config: `${id}.json`, Layers: [] }], { [`${id}.json`]: config });
    await expect(identifyImage({ format: 'docker-archive', ref: two }, noEngine)).rejects.toThrow(/exactly one image \(manifest.json lists 2 images\)/);
    await rm(join(work, 'save'), { recursive: true });
    const arm = configOf({ architecture: 'arm64' });
    const armTar = await dockerArchive([{ Config: 'c.json', Layers: [] }], { 'c.json': arm });
    await expect(identifyImage({ format: 'docker-archive', ref: armTar }, noEngine)).rejects.toThrow(/linux\/arm64 image/);
    await rm(join(work, 'save'), { recursive: true });
    const missing = await dockerArchive([{ Config: 'c.json', Layers: ['nope/layer.tar'] }], { 'c.json': config });
    const err = await imageLayers({ format: 'docker-archive', ref: missing }, noEngine, join(work, 's2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).message).toMatch(/image .*image\.tar: layer .*nope\/layer\.tar listed in manifest.json is missing/);
  });

  it('an archive without manifest.json says which member it missed', async () => {
    const dir = join(work, 'notsave');
    await mkdir(dir);
    await writeFile(join(dir, 'hello'), 'x');
    execFileSync('tar', ['-cf', join(work, 'plain.tar'), '-C', dir, 'hello']);
    await expect(identifyImage({ format: 'docker-archive', ref: join(work, 'plain.tar') }, noEngine)).rejects.toThrow(/cannot read manifest.json from the archive \(tar: manifest.json: Not found/);
  });

  it('OCI layout: config digest is the id; layers are read in place, digests verified', async () => {
    const config = configOf();
    const layer = await layerTar('a', 'fa');
    const dir = await ociLayout(config, [layer]);
    const source = { format: 'oci-layout' as const, ref: dir };
    expect((await identifyImage(source, noEngine)).imageId).toBe(`sha256:${sha(config)}`);
    expect(await imageLayers(source, noEngine, join(work, 'unused'))).toEqual([join(dir, 'blobs/sha256', sha(layer))]);
  });

  it('OCI layout: a nested index is followed to its linux/amd64 manifest', async () => {
    const config = configOf();
    const dir = await ociLayout(config, [await layerTar('a', 'fa')], { nest: true });
    expect((await identifyImage({ format: 'oci-layout', ref: dir }, noEngine)).imageId).toBe(`sha256:${sha(config)}`);
  });

  it('OCI layout: a layer that does not match its digest is refused', async () => {
    const dir = await ociLayout(configOf(), [await layerTar('a', 'fa')], { corrupt: true });
    await expect(imageLayers({ format: 'oci-layout', ref: dir }, noEngine, join(work, 'unused'))).rejects.toThrow(/layer sha256:[0-9a-f]{64} is missing or does not match its digest/);
  });

  it('OCI layout: a directory that is not a layout says so', async () => {
    await mkdir(join(work, 'empty'));
    await expect(identifyImage({ format: 'oci-layout', ref: join(work, 'empty') }, noEngine)).rejects.toThrow();
  });
});
