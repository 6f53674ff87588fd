import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureColdStart, measureStartup } from '../../src/measure/startup.js';
import { probe } from '../../src/loadgen/probe.js';
import { DockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import { defaultCacheDir } from '../../src/paths.js';
import { fixedInput } from '../../src/workload/request-input.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';

// Real Docker Engine, real image built from the shared artifact, real ONNX inference.
const docker = new Dockerode();
const runId = `itest-${process.pid}`;
let artifact: Artifact;

beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir: defaultCacheDir(), model: 'resnet18', docker });
});

afterAll(async () => {
  await new DockerPlatform('cleanup', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).cleanupRun(runId);
});

describe.each(['host', 'bridge'] as const)('DockerPlatform (%s network)', (network) => {
  it('starts the workload, answers a real inference, and leaves nothing behind', async () => {
    const platform = new DockerPlatform(`c-${network}`, { cpus: 2, memoryBytes: 1024 * 2 ** 20, network }, docker);
    const facts = await platform.prepare(artifact);
    expect(facts.engineVersion).toMatch(/^\d+\./);
    const port = await freePort();
    const inst = await platform.launch({ runId, instanceId: `${network}-0`, port, threads: 2, modelName: 'model' });
    try {
      expect(inst.lifecycle.created).toBeGreaterThan(inst.lifecycle.launch);
      expect(inst.lifecycle.started).toBeGreaterThanOrEqual(inst.lifecycle.created!);
      const startup = await measureStartup(inst, { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 60_000 });
      expect(startup.ms).toBeGreaterThan(0);
      const input = fixedInput(3 * 224 * 224, 1);
      const cold = await measureColdStart(inst, 'model', input, { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 60_000 });
      const out = JSON.parse(cold.poll.response.body.toString()) as { outputs: Array<{ shape: number[]; data: number[] }> };
      expect(out.outputs[0]!.shape).toEqual([1, 1000]);
      expect(out.outputs[0]!.data.every(Number.isFinite)).toBe(true);
      const info = JSON.parse((await probe({ url: inst.baseUrl + '/vmbench/info', timeoutMs: 2000 })).body.toString());
      expect(info.rootfsDigest).toBe(artifact.rootfsDigest);
      console.log(`docker ${network}: launch→ready ${startup.ms.toFixed(0)} ms`);
    } finally {
      await platform.stop(inst);
    }
    const left = await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    expect(left).toHaveLength(0);
  });
});
