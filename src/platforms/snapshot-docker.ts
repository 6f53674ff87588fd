import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { messageOf } from '../errors.js';
import { firstInferenceMs, snapshotResult, type SnapshotRestoreOptions, type SnapshotRestoreResult, type SnapshotVariant } from '../measure/snapshot.js';
import { fixedInput } from '../runner/input.js';
import { freePort } from '../runner/ports.js';
import { containerCreateOptions, containerName, RUN_LABEL, type DockerInstance, type DockerPlatform, type DockerPlatformConfig } from './docker.js';
import type { InstanceSpec, Lifecycle } from './platform.js';

/**
 * Docker "snapshot/restore": `docker commit` of a ready container, then a new
 * container from the committed image → first inference. A commit captures the
 * container's FILESYSTEM only (its writable layer), never process memory, so
 * the restored container starts the server and loads the model again. Real
 * memory checkpoint/restore (`docker checkpoint`, CRIU) needs an experimental
 * daemon and the criu binary; whether they are present is recorded.
 */

export interface DockerSnapshotContext {
  platform: DockerPlatform;
  docker: Dockerode;
  image: string;
  config: DockerPlatformConfig;
}

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

export async function dockerSnapshotRestore(
  ctx: DockerSnapshotContext,
  spec: InstanceSpec,
  opts: SnapshotRestoreOptions,
): Promise<SnapshotRestoreResult> {
  const { platform, docker } = ctx;
  const input = opts.input ?? fixedInput(3 * 224 * 224, 1);
  const notes: string[] = [];
  const facts: Record<string, string | number | boolean> = { network: ctx.config.network };
  const restoredId = `${spec.instanceId}-restored`;
  const ref = snapshotImageRef(spec.runId, spec.instanceId);
  let first: DockerInstance | null = null;
  let imageId: string | null = null;
  let restored: DockerInstance | null = null;
  try {
    // 1. Fresh container → first inference (the baseline: same as cold start).
    first = await platform.launch(spec);
    const baseline = await firstInferenceMs(first, spec.modelName, input, opts);
    const ck = await checkpointSupport(docker, first.containerId);
    Object.assign(facts, ck.facts);
    notes.push(ck.note);

    // 2. Commit the ready container (paused while committing, the default).
    const t0 = performance.now();
    const committed = (await docker.getContainer(first.containerId).commit({
      repo: ref.repo,
      tag: ref.tag,
      pause: true,
      comment: 'vmbench snapshot (filesystem only)',
      changes: `LABEL ${RUN_LABEL}=${spec.runId}`,
    })) as { Id?: string; id?: string };
    const snapshotMs = performance.now() - t0;
    imageId = committed.Id ?? committed.id ?? `${ref.repo}:${ref.tag}`;
    const img = (await docker.getImage(imageId).inspect()) as { Size: number };
    const base = (await docker.getImage(ctx.image).inspect()) as { Size: number };
    const layerBytes = Math.max(0, img.Size - base.Size);
    facts.committedImageBytes = img.Size;
    facts.baseImageBytes = base.Size;
    const firstInst = first;
    first = null;
    await platform.stop(firstInst);

    // 3. A new container from the committed image → first inference.
    const port = await freePort();
    const rspec: InstanceSpec = { ...spec, instanceId: restoredId, port };
    const lifecycle: Lifecycle = { launch: performance.now(), launchEpochMs: Date.now() };
    const container = await docker.createContainer(containerCreateOptions(imageId, platform.name, ctx.config, rspec));
    lifecycle.created = performance.now();
    await container.start();
    lifecycle.started = performance.now();
    restored = {
      id: restoredId,
      platformName: platform.name,
      kind: 'docker',
      baseUrl: `http://127.0.0.1:${port}`,
      lifecycle,
      containerId: container.id,
      facts: { containerId: container.id.slice(0, 12), network: ctx.config.network, image: imageId.slice(0, 19) },
    };
    const ms = await firstInferenceMs(restored, spec.modelName, input, opts);
    const phases: Record<string, number> = {
      created: lifecycle.created - lifecycle.launch,
      started: lifecycle.started - lifecycle.launch,
      first_inference: ms,
    };
    let restoredMemoryBytes: number | undefined;
    try {
      restoredMemoryBytes = (await platform.memoryReading(restored)).host.attributableBytes;
    } catch (err) {
      notes.push(`memory reading of the restored container failed: ${messageOf(err)}`);
    }
    const variant: SnapshotVariant = {
      method:
        `docker commit (pause=true) of the ready container → image; stop/remove it; create+start a new container from the committed image (${ctx.config.network} network). ` +
        'FILESYSTEM ONLY: no process memory is captured, so the server starts and loads the model again.',
      snapshotMs,
      snapshotBytes: layerBytes,
      restoreToFirstInferenceMs: ms,
      restorePhasesMs: phases,
    };
    if (restoredMemoryBytes !== undefined) variant.restoredMemoryBytes = restoredMemoryBytes;
    notes.push(
      '`docker commit` captures the container filesystem (writable layer) only, not process memory; the restored container reloads the model like a cold start',
      'snapshotBytes = committed image size − base image size (the new layer)',
    );
    return snapshotResult(platform.name, baseline, [variant], facts, notes);
  } finally {
    if (first) await platform.stop(first).catch(() => undefined);
    if (restored) await platform.stop(restored).catch(() => undefined);
    await docker.getContainer(containerName(spec.runId, restoredId)).remove({ force: true, v: true }).catch(() => undefined);
    await docker.getContainer(containerName(spec.runId, spec.instanceId)).remove({ force: true, v: true }).catch(() => undefined);
    if (imageId) await docker.getImage(imageId).remove({ force: true, noprune: false }).catch(() => undefined);
    else await docker.getImage(`${ref.repo}:${ref.tag}`).remove({ force: true }).catch(() => undefined);
  }
}
