import type Dockerode from 'dockerode';
import type { Snapshot } from '../snapshot.js';
import { RUN_LABEL } from './create-options.js';

/**
 * Docker "snapshot/restore": `docker commit` of a running container, then a
 * new container from the committed image. A commit captures the container's
 * FILESYSTEM only (its writable layer), never process memory, so the restored
 * container starts the server and loads the model again. Real memory
 * checkpoint/restore (`docker checkpoint`, CRIU) needs an experimental daemon
 * and a working checkpointer (checkpoint.ts); why none was made is recorded.
 */

export const SNAPSHOT_IMAGE_REPO = 'vmbench-snapshot';

/** Repository:tag of the committed image of one instance. */
export function snapshotImageRef(runId: string, instanceId: string): { repo: string; tag: string } {
  return { repo: SNAPSHOT_IMAGE_REPO, tag: `${runId}-${instanceId}`.slice(0, 128) };
}

/** Commit a running container (paused while committing, the default). */
export async function commitContainer(
  docker: Dockerode,
  o: { platformName: string; runId: string; instanceId: string; containerId: string; baseImage: string; network: string },
  why: { facts: Record<string, string | boolean>; reason: string },
): Promise<Snapshot> {
  const ref = snapshotImageRef(o.runId, o.instanceId);
  const t0 = performance.now();
  const committed = (await docker.getContainer(o.containerId).commit({
    repo: ref.repo,
    tag: ref.tag,
    pause: true,
    comment: 'vmbench snapshot (filesystem only)',
    changes: `LABEL ${RUN_LABEL}=${o.runId}`,
  })) as { Id?: string; id?: string };
  const takeMs = performance.now() - t0;
  const imageId = committed.Id ?? committed.id ?? `${ref.repo}:${ref.tag}`;
  const img = (await docker.getImage(imageId).inspect()) as { Size: number };
  const base = (await docker.getImage(o.baseImage).inspect()) as { Size: number };
  return {
    platform: o.platformName,
    runId: o.runId,
    instanceId: o.instanceId,
    processMemory: false,
    variants: [
      {
        name: 'commit',
        method:
          `docker commit (pause=true) of the ready container → image; stop/remove it; create+start a new container from the committed image (${o.network} network). ` +
          'FILESYSTEM ONLY: no process memory is captured, so the server starts and loads the model again.',
        takeMs,
        bytes: Math.max(0, img.Size - base.Size),
        handle: { image: imageId },
      },
    ],
    facts: { ...why.facts, network: o.network, committedImageBytes: img.Size, baseImageBytes: base.Size, filesystemOnlyBecause: why.reason },
    notes: [
      `no memory checkpoint: ${why.reason}`,
      '`docker commit` captures the container filesystem (writable layer) only, not process memory; the restored container reloads the model like a cold start',
      'snapshot bytes = committed image size − base image size (the new layer)',
    ],
  };
}

export async function removeCommit(docker: Dockerode, snapshot: Snapshot): Promise<void> {
  for (const v of snapshot.variants) {
    if (typeof v.handle.image === 'string') await docker.getImage(v.handle.image).remove({ force: true, noprune: false }).catch(() => undefined);
  }
}
