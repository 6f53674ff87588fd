import type Dockerode from 'dockerode';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../artifact.js';
import { BenchError } from '../../errors.js';
import { artifactDir, artifactsRoot, readManifest } from './build.js';
import { findArtifactImage, removeArtifactImage } from './docker-image.js';

export interface ArtifactEntry {
  id: string;
  rootfsDigest: string;
  artifact: Artifact;
  dockerImageExists: boolean;
  diskExists: boolean;
  /** Milliseconds since the manifest's createdAt. */
  ageMs: number;
  sizes: {
    /** Engine-reported image size (null when the image is gone). */
    imageBytes: number | null;
    diskBytes: number;
    kernelBytes: number;
    initrdBytes: number;
  };
}

export interface RemoveOptions {
  /** Also remove the base tarballs, apt's package cache, the kernel cache and the file-hash cache. */
  includeCaches?: boolean;
}

/** Cache subdirectories removed by includeCaches (never models, keys or anything else). */
export const CACHE_DIRS = ['base', 'apt-cache', 'kernel', 'tmp'] as const;
export const CACHE_FILES = ['file-hashes.json'] as const;

async function artifactIds(cacheDir: string): Promise<string[]> {
  const names = await readdir(artifactsRoot(cacheDir)).catch(() => [] as string[]);
  return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
}

/** Built artifacts (those with a manifest), newest first, with whether their image and disk still exist. */
export async function listArtifacts(cacheDir: string, docker: Dockerode): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  for (const id of await artifactIds(cacheDir)) {
    const artifact = await readManifest(artifactDir(cacheDir, id));
    if (!artifact) continue;
    const image = await findArtifactImage(docker, id).catch(() => undefined);
    const diskExists = (await stat(artifact.vm.disk).catch(() => undefined)) !== undefined;
    out.push({
      id,
      rootfsDigest: artifact.rootfsDigest,
      artifact,
      dockerImageExists: image !== undefined,
      diskExists,
      ageMs: Math.max(0, Date.now() - Date.parse(artifact.createdAt)),
      sizes: {
        imageBytes: image?.sizeBytes ?? null,
        diskBytes: artifact.vm.diskBytes,
        kernelBytes: artifact.vm.kernelBytes,
        initrdBytes: artifact.vm.initrdBytes,
      },
    });
  }
  return out.sort((a, b) => Date.parse(b.artifact.createdAt) - Date.parse(a.artifact.createdAt));
}

/** Full ids for ids or unique prefixes; unknown or ambiguous ones are input errors. */
export function matchIds(known: readonly string[], wanted: readonly string[]): string[] {
  const out = new Set<string>();
  for (const w of wanted) {
    const hits = known.filter((id) => id.startsWith(w.toLowerCase()));
    if (hits.length === 0) throw new BenchError('input', `no artifact ${w}`, { hint: 'list them with `bench images ls`' });
    if (hits.length > 1) throw new BenchError('input', `artifact prefix ${w} is ambiguous (${hits.length} match)`, { hint: 'give more characters of the id' });
    out.add(hits[0]!);
  }
  return [...out];
}

/**
 * Remove exactly the named artifacts (ids or unique prefixes, or 'all'): their
 * directories under <cacheDir>/artifacts/ and their vmbench/workload:<id12>
 * image tags (only when labelled with that artifact). Caches stay unless
 * includeCaches. Returns the removed ids.
 */
export async function removeArtifacts(
  cacheDir: string,
  docker: Dockerode,
  ids: readonly string[] | 'all',
  opts: RemoveOptions = {},
): Promise<string[]> {
  const known = await artifactIds(cacheDir);
  const targets = ids === 'all' ? known : matchIds(known, ids);
  for (const id of targets) {
    await removeArtifactImage(docker, id);
    await rm(artifactDir(cacheDir, id), { recursive: true, force: true });
  }
  if (opts.includeCaches) {
    for (const d of CACHE_DIRS) await rm(join(cacheDir, d), { recursive: true, force: true });
    for (const f of CACHE_FILES) await rm(join(cacheDir, f), { force: true });
  }
  return targets;
}
