/**
 * Real snapshot/restore on both engines with the built artifact (resnet18,
 * cached), through the runner as `bench run` does it: the snapshot rides on
 * each platform's cold start (no launch of its own), QEMU migrates to a file
 * and restores with -incoming (raw and gzip), Docker commits and starts a new
 * container from the image (filesystem only). Checks nothing is left behind.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheDir, projectRoot } from '../../src/paths.js';
import { SNAPSHOT_IMAGE_REPO } from '../../src/platforms/docker/commit-snapshot.js';
import { createPlatform } from '../../src/platforms/factory.js';
import { belongsToRun, listVmbenchQemuProcesses } from '../../src/platforms/qemu/procs.js';
import type { Sample } from '../../src/results/sample.js';
import { executeRun } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';
import { modelInputElements } from '../../src/workload/model-input.js';

const cacheDir = defaultCacheDir();
const docker = new Dockerode();
const runId = `itest-snap-${process.pid.toString(36)}${Date.now().toString(36)}`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const resultsRoot = mkdtempSync(join(tmpdir(), 'vmbench-snap-'));
let artifact: Artifact;

const scenario = parseScenario(
  [
    'name: snapshot-itest',
    'workload: { model: resnet18, threads: 1 }',
    'platforms:',
    '  - { name: container, kind: docker, cpus: 1, memory: 1GiB }',
    '  - { name: vm, kind: qemu, cpus: 1, memory: 512MiB, machine: pc }',
    'measurements:',
    '  cold_start: { repetitions: 1, timeout: 300s }',
    '  snapshot: { timeout: 300s }',
  ].join('\n'),
  'snapshot-itest.yaml',
);

beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir, model: 'resnet18', docker });
}, 900_000);

afterAll(() => rmSync(resultsRoot, { recursive: true, force: true }));

const byMetric = (samples: Sample[], platform: string) => Object.fromEntries(samples.filter((s) => s.platform === platform).map((s) => [s.metric, s]));

describe('snapshot/restore (real engines, through the runner)', () => {
  it('restores a QEMU VM from a migration file far sooner than a fresh boot, commits a container, and leaves nothing', async () => {
    const platforms = scenario.platforms.map((p) => createPlatform(p, { docker, cacheDir, log }));
    const outcome = await executeRun(
      {
        scenario, scenarioFile: 'snapshot-itest.yaml', resultsRoot, projectDir: projectRoot(), vmbenchVersion: 'test',
        artifact: async () => artifact, inputElements: () => modelInputElements('resnet18', 0, cacheDir, 1),
        platforms, signal: new AbortController().signal,
        onEvent: (e) => (e.type === 'sample' || e.type === 'warning' || e.type === 'info' ? log(`${e.type}: ${JSON.stringify(e)}`) : undefined),
      },
      runId,
    );
    expect(outcome.record.status).toBe('completed');
    expect(outcome.record.identity?.agreed).toBe(true);
    const vm = byMetric(outcome.samples, 'vm');
    const c = byMetric(outcome.samples, 'container');
    for (const m of ['snapshot_restore', 'snapshot_fresh', 'snapshot_take', 'snapshot_size']) {
      expect(vm[m]?.value, `vm ${m}`).toBeGreaterThan(0);
      expect(c[m]?.value, `container ${m}`).toBeGreaterThanOrEqual(0);
    }
    // The snapshot rode on the cold start: the instance snapshotted is the one the cold start measured.
    expect(vm.snapshot_fresh!.value).toBe(vm.cold_start!.value);
    // Far below a fresh boot + model load + first inference; process memory came back.
    expect(vm.snapshot_restore!.value).toBeLessThan(vm.snapshot_fresh!.value * 0.75);
    expect(vm.snapshot_restore!.metadata.process_memory).toBe(true);
    expect(String(vm.snapshot_restore!.metadata.variants)).toMatch(/raw|gzip/);
    expect(vm.snapshot_size!.value).toBeGreaterThan(10);
    expect(vm.snapshot_restored_memory?.value ?? 1).toBeGreaterThan(0);
    expect(String(c.snapshot_restore!.metadata.method)).toMatch(/FILESYSTEM ONLY/);
    expect(c.snapshot_restore!.metadata.process_memory).toBe(false);
    expect(String(c.snapshot_restore!.metadata.notes)).toMatch(/checkpoint/);
    // Launches: the two cold starts and the restores (2 VM variants, 1 container), nothing else.
    expect(outcome.record.timing?.launches).toBe(5);

    expect((await listVmbenchQemuProcesses()).filter((p) => belongsToRun(p, runId))).toEqual([]);
    expect(existsSync(join(cacheDir, 'runs', runId))).toBe(false);
    expect(await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).toHaveLength(0);
    expect(await docker.listImages({ filters: { reference: [SNAPSHOT_IMAGE_REPO] } })).toHaveLength(0);
  });
});
