import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { GUEST_APP_DIR, GUEST_NODE, GUEST_SERVER } from '../contract.js';
import { BenchError } from '../../errors.js';
import { commandError } from './exec.js';

export const IMAGE_REPO = 'vmbench/workload';
export const LABEL_ARTIFACT = 'vmbench.artifact';
export const LABEL_DIGEST = 'vmbench.rootfs-digest';

export function imageTag(artifactId: string): string {
  return `${IMAGE_REPO}:${artifactId.slice(0, 12)}`;
}

/** The Dockerfile-style instructions applied on import. */
export function imageChanges(artifactId: string, digest: string): string[] {
  return [
    `CMD ${JSON.stringify([GUEST_NODE, GUEST_SERVER])}`,
    `WORKDIR ${GUEST_APP_DIR}`,
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `LABEL ${LABEL_ARTIFACT}=${artifactId}`,
    `LABEL ${LABEL_DIGEST}=${digest}`,
  ];
}

export function dockerError(err: unknown, what: string): BenchError {
  if (err instanceof BenchError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
    return new BenchError('infrastructure', `cannot reach the Docker engine (${e.code}) while ${what}`, {
      hint: 'start dockerd (systemctl start docker, or dockerd &) and check /var/run/docker.sock',
      cause: err,
    });
  }
  return new BenchError('infrastructure', `Docker failed while ${what}: ${e.message ?? String(err)}`, {
    hint: 'check `docker info`; re-run the build',
    cause: err,
  });
}

export interface ImageInfo {
  image: string;
  imageId: string;
  sizeBytes: number;
  digest?: string;
}

/** The artifact's image if it exists under its tag with the matching artifact label. */
export async function findArtifactImage(docker: Dockerode, artifactId: string): Promise<ImageInfo | undefined> {
  const image = imageTag(artifactId);
  try {
    const info = await docker.getImage(image).inspect();
    const labels = info.Config?.Labels ?? {};
    if (labels[LABEL_ARTIFACT] !== artifactId) return undefined;
    return { image, imageId: info.Id, sizeBytes: info.Size, digest: labels[LABEL_DIGEST] };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw dockerError(err, `inspecting ${image}`);
  }
}

/**
 * `tar` the rootfs (numeric owners, sorted, fixed mtimes already set) straight
 * into POST /images/create?fromSrc=- and tag it vmbench/workload:<id12>.
 * `changes` are the Dockerfile-style instructions applied on import (default:
 * the built-in server's, imageChanges()).
 */
export async function importRootfsImage(
  docker: Dockerode,
  rootfsDir: string,
  artifactId: string,
  digest: string,
  changes: readonly string[] = imageChanges(artifactId, digest),
): Promise<ImageInfo> {
  const image = imageTag(artifactId);
  await importTree(docker, rootfsDir, { repo: IMAGE_REPO, tag: artifactId.slice(0, 12), changes });
  const found = await findArtifactImage(docker, artifactId);
  if (!found) throw new BenchError('infrastructure', `Docker import finished but ${image} is missing or unlabeled`);
  return found;
}

/** `tar` of a directory tree into the engine as repo:tag with the given changes; a stale tag is replaced. */
export async function importTree(docker: Dockerode, rootfsDir: string, o: { repo: string; tag: string; changes: readonly string[] }): Promise<void> {
  const image = `${o.repo}:${o.tag}`;
  // A stale tag (same id12, other artifact) is replaced.
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  const tar = execa('tar', ['--numeric-owner', '--sort=name', '--format=gnu', '-C', rootfsDir, '-cf', '-', '.'], {
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
  });
  let responseText = '';
  try {
    const res = await docker.importImage(tar.stdout, { repo: o.repo, tag: o.tag, changes: [...o.changes] } as object);
    for await (const chunk of res) responseText += String(chunk);
    await tar;
  } catch (err) {
    tar.kill();
    await tar.catch(() => undefined);
    await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    if ((err as { code?: string }).code === 'ENOENT' && (err as { syscall?: string }).syscall?.startsWith('spawn')) {
      throw commandError('tar', 'tar (docker image)', err);
    }
    if ((err as { exitCode?: number }).exitCode !== undefined) throw commandError('tar', 'tar (docker image)', err);
    throw dockerError(err, `importing ${image}`);
  }
  const errLine = responseText.split('\n').find((l) => l.includes('"error"'));
  if (errLine) {
    await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    throw new BenchError('infrastructure', `Docker import of ${image} failed: ${errLine}`, { hint: 'check `docker info` and free disk space' });
  }
}

/** Remove the artifact's image tag (only if it carries this artifact's label). Returns whether it removed one. */
export async function removeArtifactImage(docker: Dockerode, artifactId: string): Promise<boolean> {
  const found = await findArtifactImage(docker, artifactId);
  if (!found) return false;
  try {
    await docker.getImage(found.image).remove();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    if ((err as { statusCode?: number }).statusCode === 409) {
      throw new BenchError('infrastructure', `image ${found.image} is used by a container`, {
        hint: 'remove the vmbench containers first (docker ps -a --filter ancestor=' + found.image + ')',
        cause: err,
      });
    }
    throw dockerError(err, `removing ${found.image}`);
  }
}
