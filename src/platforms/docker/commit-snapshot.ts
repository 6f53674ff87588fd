import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { messageOf } from '../../errors.js';
import type { Snapshot } from '../snapshot.js';
import { RUN_LABEL } from './create-options.js';

/**
 * Docker "snapshot/restore": `docker commit` of a running container, then a
 * new container from the committed image. A commit captures the container's
 * FILESYSTEM only (its writable layer), never process memory, so the restored
 * container starts the server and loads the model again. Real memory
 * checkpoint/restore (`docker checkpoint`, CRIU) needs an experimental daemon
 * and a working criu; whether they are present is recorded.
 */

export const SNAPSHOT_IMAGE_REPO = 'vmbench-snapshot';

/** Repository:tag of the committed image of one instance. */
export function snapshotImageRef(runId: string, instanceId: string): { repo: string; tag: string } {
  return { repo: SNAPSHOT_IMAGE_REPO, tag: `${runId}-${instanceId}`.slice(0, 128) };
}

/** Is memory checkpoint/restore (CRIU) usable here? Records what was checked. */
export async function checkpointSupport(docker: Dockerode, containerId?: string): Promise<{ available: boolean; facts: Record<string, string | boolean>; note: string }> {
  const facts: Record<string, string | boolean> = {};
  let experimental = false;
  try {
    const info = (await docker.info()) as { ExperimentalBuild?: boolean };
    experimental = info.ExperimentalBuild === true;
  } catch (err) {
    facts.dockerInfoError = messageOf(err);
  }
  facts.dockerExperimental = experimental;
  const criu = await execa('criu', ['--version'], { reject: false, timeout: 5000 }).catch((e: unknown) => ({ exitCode: -1, stdout: '', stderr: messageOf(e) }));
  const criuOk = criu.exitCode === 0;
  facts.criuBinary = criuOk ? String(criu.stdout).split('\n')[0] ?? 'yes' : false;
  if (containerId) {
    const ck = await execa('docker', ['checkpoint', 'ls', containerId], { reject: false, timeout: 10_000 }).catch((e: unknown) => ({ exitCode: -1, stdout: '', stderr: messageOf(e) }));
    facts.dockerCheckpointLs = ck.exitCode === 0 ? 'ok' : `exit ${ck.exitCode}: ${String(ck.stderr).trim().split('\n')[0]?.slice(0, 200) ?? ''}`;
  }
  const available = experimental && criuOk;
  const note = available
    ? 'docker checkpoint (CRIU) looks available but was not used here'
    : `docker checkpoint/restore (CRIU) is not available: daemon experimental=${experimental}, criu binary ${criuOk ? 'present' : 'absent'}` +
      (facts.dockerCheckpointLs ? `, \`docker checkpoint ls\`: ${facts.dockerCheckpointLs}` : '');
  return { available, facts, note };
}

/** Commit a running container (paused while committing, the default). */
export async function commitContainer(
  docker: Dockerode,
  o: { platformName: string; runId: string; instanceId: string; containerId: string; baseImage: string; network: string },
): Promise<Snapshot> {
  const ck = await checkpointSupport(docker, o.containerId);
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
    facts: { ...ck.facts, network: o.network, committedImageBytes: img.Size, baseImageBytes: base.Size },
    notes: [
      ck.note,
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
