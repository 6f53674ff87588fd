import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { messageOf } from '../../errors.js';
import type { Snapshot } from '../snapshot.js';

/**
 * Memory checkpoint/restore of a container through the Engine API
 * (`docker checkpoint create`, then `docker start --checkpoint` of a new
 * container): process memory comes back, as with a VM's migration snapshot.
 * It needs the engine's experimental mode and, for runc/crun, a CRIU that
 * passes `criu check`; gVisor's runsc checkpoints by itself. Where it cannot
 * run, or runs and fails, the reason is recorded and the caller falls back to
 * `docker commit` (filesystem only).
 */

export interface CheckpointSupport {
  /** Worth trying: the engine allows checkpoints and the runtime can make one. */
  attempt: boolean;
  facts: Record<string, string | boolean>;
  /** Why not (or what to expect), in words. */
  reason: string;
}

export async function checkpointSupport(docker: Dockerode, runtime: { name: string; gvisor: boolean }): Promise<CheckpointSupport> {
  const facts: Record<string, string | boolean> = {};
  let experimental = false;
  try {
    experimental = ((await docker.info()) as { ExperimentalBuild?: boolean }).ExperimentalBuild === true;
  } catch (err) {
    facts.dockerInfoError = messageOf(err);
  }
  facts.dockerExperimental = experimental;
  if (runtime.gvisor) {
    facts.checkpointer = 'runsc';
    return experimental
      ? { attempt: true, facts, reason: 'gVisor checkpoints by itself (runsc checkpoint)' }
      : { attempt: false, facts, reason: 'the engine is not in experimental mode, which docker checkpoint needs' };
  }
  facts.checkpointer = 'criu';
  const check = await execa('criu', ['check'], { reject: false, timeout: 20_000, all: true }).catch((e: unknown) => ({ exitCode: -1, all: messageOf(e) }));
  const criuOk = check.exitCode === 0;
  facts.criuCheck = criuOk ? 'ok' : (String(check.all ?? '').trim().split('\n').find((l) => /error/i.test(l)) ?? `exit ${check.exitCode}`).slice(0, 200);
  if (!criuOk) return { attempt: false, facts, reason: `CRIU cannot checkpoint on this host (criu check: ${facts.criuCheck})` };
  if (!experimental) return { attempt: false, facts, reason: 'the engine is not in experimental mode, which docker checkpoint needs' };
  return { attempt: true, facts, reason: `${runtime.name} checkpoints with CRIU` };
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await treeBytes(p) : (await stat(p)).blocks * 512;
  }
  return total;
}

/** Directories of one run's checkpoints carry its id, so cleanupRun finds them. */
export function checkpointDirPrefix(runId: string): string {
  return `vmbench-checkpoint-${runId}-`;
}

/** Checkpoint a running container into a fresh directory; the container exits (its memory is in the checkpoint). */
export async function checkpointContainer(
  docker: Dockerode,
  o: { platformName: string; runId: string; instanceId: string; containerId: string; baseImage: string; port: number; network: string },
): Promise<Snapshot> {
  const dir = await mkdtemp(join(tmpdir(), checkpointDirPrefix(o.runId)));
  const id = 'vmbench';
  const t0 = performance.now();
  try {
    await (docker.getContainer(o.containerId) as unknown as { createCheckpoint(opts: object): Promise<unknown> }).createCheckpoint({
      CheckpointID: id,
      CheckpointDir: dir,
      Exit: true,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const takeMs = performance.now() - t0;
  return {
    platform: o.platformName,
    runId: o.runId,
    instanceId: o.instanceId,
    processMemory: true,
    variants: [
      {
        name: 'checkpoint',
        method: `docker checkpoint create (exit) of the ready container into a directory; a new container from the same image started with --checkpoint (${o.network} network, the same port: the restored process holds its listening socket)`,
        takeMs,
        bytes: await treeBytes(dir),
        handle: { checkpointDir: dir, checkpointId: id, port: o.port, image: o.baseImage },
      },
    ],
    facts: { network: o.network },
    notes: ['process memory restored from a checkpoint: the model is already loaded in the restored container'],
  };
}

/**
 * The part of an engine's checkpoint error that says why: runsc's sits after
 * `checkpointing container "<id>": ` and before ` path=` (its dump log).
 */
export function checkpointFailure(message: string): string {
  const flat = message.replace(/\s+/g, ' ').split(' path= ')[0]!;
  const m = /checkpointing container "[^"]*": (.*)$/.exec(flat);
  const why = (m?.[1] ?? flat).trim().replace(/:$/, '');
  return why.length > 300 ? `${why.slice(0, 150)} … ${why.slice(-150)}` : why;
}

/** Start a created container from a checkpoint directory. */
export async function startFromCheckpoint(container: Dockerode.Container, handle: Record<string, string | number>): Promise<void> {
  await container.start({ checkpoint: String(handle.checkpointId), 'checkpoint-dir': String(handle.checkpointDir) } as Dockerode.ContainerStartOptions);
}

export async function removeCheckpoints(snapshot: Snapshot): Promise<void> {
  for (const v of snapshot.variants) {
    if (typeof v.handle.checkpointDir === 'string') await rm(v.handle.checkpointDir, { recursive: true, force: true });
  }
}

/** Checkpoint directories a run left in the temp dir (after a crash). */
export async function removeRunCheckpoints(runId: string): Promise<void> {
  const prefix = checkpointDirPrefix(runId);
  for (const e of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (e.startsWith(prefix)) await rm(join(tmpdir(), e), { recursive: true, force: true });
  }
}
