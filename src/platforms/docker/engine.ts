import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';

/** Force-remove every container matching a label filter (`key` or `key=value`); returns how many. */
export async function removeLabelled(docker: Dockerode, label: string): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)),
  );
  return containers.length;
}

/** Force-remove every image matching a label filter (images committed by snapshot runs); returns how many. */
export async function removeLabelledImages(docker: Dockerode, label: string): Promise<number> {
  const images = await docker.listImages({ all: true, filters: { label: [label] } });
  await Promise.all(images.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
  return images.length;
}

export async function engineVersion(docker: Dockerode): Promise<Dockerode.DockerVersion> {
  try {
    return await docker.version();
  } catch (cause) {
    throw new BenchError('infrastructure', `Docker Engine does not answer: ${messageOf(cause)}`, {
      category: 'engine_unavailable',
      hint: 'start it with ./scripts/setup.sh (it starts dockerd when none answers)',
      cause,
    });
  }
}

/** Remove a container, whatever state it is in; nothing to remove is fine. */
export async function removeContainerQuietly(docker: Dockerode, idOrName: string): Promise<void> {
  try {
    await docker.getContainer(idOrName).remove({ force: true, v: true });
  } catch {
    // nothing to remove
  }
}
