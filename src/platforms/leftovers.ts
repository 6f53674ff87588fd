import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { messageOf } from '../errors.js';
import { checkpointDirPrefix, removeRunCheckpoints } from './docker/checkpoint.js';
import { RUN_LABEL } from './docker/create-options.js';
import { removeLabelled, removeLabelledImages } from './docker/engine.js';
import { ownershipOf, readOwners, releaseRun, type Ownership, type RunOwner } from './host/owner.js';
import { removeQemuRunDir } from './qemu/gc.js';
import { killPids, listVmbenchQemuProcesses } from './qemu/procs.js';
import { cleanupVagrant } from './vagrant/cleanup.js';
import { vagrantPaths } from './vagrant/env.js';

/**
 * What runs left on this host, by run id — every container, snapshot image,
 * QEMU process, scratch dir, checkpoint dir and Vagrant project carries one —
 * and whether the process that owned each run is still alive (owner.ts).
 */
export interface RunLeftovers {
  runId: string;
  ownership: Ownership;
  owner: RunOwner | null;
  containers: number;
  images: number;
  qemuProcesses: number[];
  /** <cacheDir>/runs/<runId> (QEMU scratch), <cacheDir>/vagrant/envs/<runId>, checkpoint dirs. */
  dirs: string[];
}

export interface LeftoverScan {
  runs: RunLeftovers[];
  /** What could not be looked at (the engine down, say): the scan is partial. */
  notes: string[];
}

export async function scanLeftovers(docker: Dockerode, cacheDir: string): Promise<LeftoverScan> {
  const owners = await readOwners(cacheDir);
  const runs = new Map<string, RunLeftovers>();
  const entry = (runId: string): RunLeftovers => {
    let r = runs.get(runId);
    if (!r) {
      r = { runId, ownership: ownershipOf(runId, owners), owner: owners.find((o) => o.runId === runId) ?? null, containers: 0, images: 0, qemuProcesses: [], dirs: [] };
      runs.set(runId, r);
    }
    return r;
  };
  const notes: string[] = [];
  try {
    for (const c of await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } })) {
      const id = c.Labels?.[RUN_LABEL];
      if (id) entry(id).containers += 1;
    }
    for (const i of await docker.listImages({ all: true, filters: { label: [RUN_LABEL] } })) {
      const id = i.Labels?.[RUN_LABEL];
      if (id) entry(id).images += 1;
    }
  } catch (err) {
    notes.push(`Docker Engine not reachable, containers not checked: ${messageOf(err)}`);
  }
  for (const p of await listVmbenchQemuProcesses()) if (p.runId) entry(p.runId).qemuProcesses.push(p.pid);
  for (const id of await readdir(join(cacheDir, 'runs')).catch(() => [] as string[])) entry(id).dirs.push(join(cacheDir, 'runs', id));
  const envs = vagrantPaths(cacheDir).envs;
  for (const id of await readdir(envs).catch(() => [] as string[])) entry(id).dirs.push(join(envs, id));
  const prefix = checkpointDirPrefix('');
  for (const e of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!e.startsWith(prefix)) continue;
    const owner = owners.find((o) => e.startsWith(checkpointDirPrefix(o.runId)));
    if (owner) entry(owner.runId).dirs.push(join(tmpdir(), e));
  }
  // A marker whose run left nothing (killed before it started anything) still names a dead run.
  for (const o of owners) if (ownershipOf(o.runId, owners) === 'dead') entry(o.runId);
  return { runs: [...runs.values()], notes };
}

/** Remove everything one run left, then its owner marker. */
export async function removeRunLeftovers(docker: Dockerode, cacheDir: string, runId: string, log?: (line: string) => void): Promise<void> {
  const label = `${RUN_LABEL}=${runId}`;
  await removeLabelled(docker, label).catch((err: unknown) => log?.(`containers of ${runId}: ${messageOf(err)}`));
  await removeLabelledImages(docker, label).catch((err: unknown) => log?.(`snapshot images of ${runId}: ${messageOf(err)}`));
  await removeRunCheckpoints(runId);
  // Vagrant first: its domains run QEMU processes named vmbench-* too, and `vagrant destroy` is the clean way.
  await cleanupVagrant(cacheDir, { runId, log });
  const procs = (await listVmbenchQemuProcesses()).filter((p) => p.runId === runId);
  if (procs.length) await killPids(procs.map((p) => p.pid));
  await removeQemuRunDir(join(cacheDir, 'runs', runId));
  await releaseRun(cacheDir, runId);
}
