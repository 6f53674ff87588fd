/**
 * Real snapshot/restore start on both platforms with the built artifact
 * (resnet18, cached): QEMU (migrate to a file, restore with -incoming) and
 * Docker (fresh start vs a container from a `docker commit` image). Prints the
 * results and checks nothing is left behind.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotRestoreResult } from '../../src/measure/snapshot.js';
import { defaultCacheDir } from '../../src/paths.js';
import { DockerPlatform } from '../../src/platforms/docker.js';
import { belongsToRun, listVmbenchQemuProcesses } from '../../src/platforms/qemu-procs.js';
import { QemuPlatform, type QemuPlatformConfig } from '../../src/platforms/qemu.js';
import { SNAPSHOT_IMAGE_REPO } from '../../src/platforms/snapshot-docker.js';
import { freePort } from '../../src/runner/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';

const cacheDir = defaultCacheDir();
const docker = new Dockerode();
const runId = `itest-snap-${process.pid.toString(36)}${Date.now().toString(36)}`;
const log = (line: string) => process.stdout.write(`${line}\n`);
let artifact: Artifact;

const qemuConfig: QemuPlatformConfig = { cpus: 1, memoryBytes: 512 * 2 ** 20, accel: 'auto', machine: 'auto', bootTimeoutMs: 60_000 };

function show(r: SnapshotRestoreResult): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mib = (b: number | undefined) => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(1)} MiB`);
  log(`== ${r.platformName}: fresh launch→first inference ${s(r.baselineLaunchToFirstInferenceMs)}`);
  for (const v of r.variants) {
    log(
      `   ${v === r.variants.find((x) => x.method === r.method) ? '*' : ' '} snapshot ${s(v.snapshotMs)}, ${mib(v.snapshotBytes)}; restore→first inference ${s(v.restoreToFirstInferenceMs)}; restored memory ${mib(v.restoredMemoryBytes)}; phases ${JSON.stringify(Object.fromEntries(Object.entries(v.restorePhasesMs).map(([k, x]) => [k, Math.round(x)])))}`,
    );
    log(`     method: ${v.method}`);
  }
  log(`   facts: ${JSON.stringify(r.facts)}`);
  for (const n of r.notes) log(`   note: ${n}`);
}

beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir, model: 'resnet18', docker });
}, 900_000);

afterAll(async () => {
  await new DockerPlatform('cleanup', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).cleanupRun(runId);
  await new QemuPlatform('cleanup', qemuConfig, { cacheDir }).cleanupRun(runId);
});

describe('snapshotRestore (real engines)', () => {
  it('qemu: restore from a migration file answers far sooner than a fresh boot, and leaves nothing', async () => {
    const platform = new QemuPlatform('qemu', qemuConfig, { cacheDir, log });
    await platform.prepare(artifact);
    const port = await freePort();
    const r = await platform.snapshotRestore({ runId, instanceId: 'vm0', port, threads: 1, modelName: 'model' }, { readyTimeoutMs: 120_000 });
    show(r);
    expect(r.variants.length).toBeGreaterThanOrEqual(1);
    expect(r.snapshotBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(r.snapshotMs).toBeGreaterThan(0);
    expect(r.restoreToFirstInferenceMs).toBeGreaterThan(0);
    // Far below a fresh boot + model load + first inference.
    expect(r.restoreToFirstInferenceMs).toBeLessThan(r.baselineLaunchToFirstInferenceMs * 0.75);
    expect(r.restoredMemoryBytes ?? 1).toBeGreaterThan(0);
    expect((await listVmbenchQemuProcesses()).filter((p) => belongsToRun(p, runId))).toEqual([]);
    expect(existsSync(join(cacheDir, 'runs', runId))).toBe(false);
  });

  it('docker: a container from a committed image answers an inference, and nothing is left', async () => {
    const platform = new DockerPlatform('docker', { cpus: 2, memoryBytes: 2 ** 30, network: 'host' }, docker);
    await platform.prepare(artifact);
    const port = await freePort();
    const r = await platform.snapshotRestore({ runId, instanceId: 'c0', port, threads: 2, modelName: 'model' }, { readyTimeoutMs: 60_000 });
    show(r);
    expect(r.method).toMatch(/FILESYSTEM ONLY/);
    expect(r.notes.join(' ')).toMatch(/checkpoint/);
    expect(r.baselineLaunchToFirstInferenceMs).toBeGreaterThan(0);
    expect(r.restoreToFirstInferenceMs).toBeGreaterThan(0);
    expect(r.restoreToFirstInferenceMs).toBeLessThan(60_000);
    expect(r.snapshotMs).toBeGreaterThan(0);
    expect(r.snapshotBytes).toBeGreaterThanOrEqual(0);
    const left = await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    expect(left).toHaveLength(0);
    const imgs = await docker.listImages({ filters: { reference: [`${SNAPSHOT_IMAGE_REPO}`] } });
    expect(imgs).toHaveLength(0);
  });
});
