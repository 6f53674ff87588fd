/**
 * The workload under each OCI runtime the engine has (runc, crun, gVisor's
 * runsc) through the Engine API: a real inference, the memory reading (the
 * server read from inside the sandbox under gVisor, its sentry and gofer
 * attributed), the isolation facts (the kernel shared with the host or not),
 * and nothing left behind.
 */
import { execFileSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/loadgen/probe.js';
import { measureColdStart, measureStartup } from '../../src/measure/startup.js';
import { defaultCacheDir } from '../../src/paths.js';
import { DockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';
import { ENDPOINTS } from '../../src/workload/contract.js';
import { fixedInput } from '../../src/workload/request-input.js';

const docker = new Dockerode();
const runId = `itest-rt-${process.pid.toString(36)}${Date.now().toString(36)}`;
let artifact: Artifact;
let hostBootId: string;

beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir: defaultCacheDir(), model: 'resnet18', docker });
  hostBootId = (await new DockerPlatform('h', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).hostKernel()).bootId!;
}, 900_000);

afterAll(async () => {
  await new DockerPlatform('cleanup', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).cleanupRun(runId);
});

describe.each(['runc', 'crun', 'runsc'] as const)('the workload under %s', (runtime) => {
  it('answers a real inference, reads its memory and isolation, and leaves nothing behind', async () => {
    const platform = new DockerPlatform(runtime, { cpus: 1, memoryBytes: 1024 * 2 ** 20, network: 'host', runtime }, docker);
    const facts = await platform.prepare(artifact);
    expect(facts.runtime).toBe(runtime);
    expect(String(facts.runtimeVersion)).not.toBe('unknown');
    if (runtime === 'runsc') expect(facts.gvisorPlatform).toMatch(/ptrace|systrap|kvm/);
    const inst = await platform.launch({ runId, instanceId: `${runtime}-0`, port: await freePort(), threads: 1, modelName: 'model' });
    try {
      expect(inst.facts.runtime).toBe(runtime);
      const startup = await measureStartup(inst, { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 120_000 });
      const cold = await measureColdStart(inst, 'model', fixedInput(3 * 224 * 224, 1), { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 120_000 });
      const out = JSON.parse(cold.poll.response.body.toString()) as { outputs: Array<{ shape: number[]; data: number[] }> };
      expect(out.outputs[0]!.shape).toEqual([1, 1000]);
      const info = JSON.parse((await probe({ url: inst.baseUrl + ENDPOINTS.info, timeoutMs: 5000 })).body.toString());
      expect(info.rootfsDigest).toBe(artifact.rootfsDigest);

      const mem = await platform.memoryReading(inst);
      expect(mem.workload.pssBytes).toBeGreaterThan(100 * 2 ** 20);
      expect(mem.host.attributableBytes).toBeGreaterThanOrEqual(mem.workload.pssBytes * 0.5);
      if (runtime === 'runsc') {
        expect(mem.workload.seenFrom).toBe('docker-exec');
        expect(Object.keys(mem.host.info)).toEqual(expect.arrayContaining(['sentryPss']));
      } else {
        expect(mem.workload.seenFrom).toBe('host');
      }

      const iso = JSON.parse((await probe({ url: inst.baseUrl + ENDPOINTS.isolation, timeoutMs: 5000 })).body.toString());
      if (runtime === 'runsc') {
        expect(iso.bootId === hostBootId).toBe(false); // gVisor's own kernel
        expect(iso.kernelRelease).not.toBe((await platform.hostKernel()).release);
      } else {
        expect(iso.bootId).toBe(hostBootId); // the host's kernel instance
      }
      const sys = JSON.parse((await probe({ url: `${inst.baseUrl}${ENDPOINTS.syscalls}?calls=20000`, timeoutMs: 120_000 })).body.toString());
      expect(sys.getuid.nsPerCall).toBeGreaterThan(0);
      // Pinning for a load window: every runtime ends up on the CPUs asked for (cpuset, or taskset where the runtime cannot update).
      await platform.pinCpus(inst, '0');
      expect(String(inst.facts.pinnedBy)).toMatch(runtime === 'runc' ? /^cpuset/ : /cpuset|taskset/);
      const pid = (await docker.getContainer(String(inst.facts.containerId)).inspect()).State.Pid;
      expect(execFileSync('taskset', ['-p', String(pid)]).toString()).toMatch(/affinity mask: 1\s*$/);
      // Snapshot: a memory checkpoint where the engine and runtime make one, else a commit with the reason why not.
      const snap = await platform.snapshot(inst);
      try {
        if (!snap.processMemory) expect(String(snap.facts.filesystemOnlyBecause)).toMatch(/CRIU|checkpoint|experimental/);
        const variant = snap.variants[0]!;
        const restored = await platform.restore(snap, variant, { runId, instanceId: `${runtime}-r`, port: await freePort(), threads: 1, modelName: 'model' });
        try {
          const first = await measureColdStart(restored, 'model', fixedInput(3 * 224 * 224, 1), { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 120_000 });
          console.log(`${runtime}: snapshot ${variant.name} (process memory: ${snap.processMemory}; ${snap.facts.filesystemOnlyBecause ?? ''}) → first inference ${first.ms.toFixed(0)} ms`);
        } finally {
          await platform.stop(restored);
        }
      } finally {
        await platform.removeSnapshot(snap);
      }
      console.log(
        `${runtime}: launch→ready ${startup.ms.toFixed(0)} ms, cold start ${cold.ms.toFixed(0)} ms; memory host ${(mem.host.attributableBytes / 2 ** 20).toFixed(0)} MiB, workload PSS ${(mem.workload.pssBytes / 2 ** 20).toFixed(0)} MiB; kernel ${iso.kernelRelease}; getuid ${(sys.getuid.nsPerCall / 1000).toFixed(2)} µs, stat ${(sys.stat.nsPerCall / 1000).toFixed(2)} µs`,
      );
    } finally {
      await platform.stop(inst);
    }
    expect(await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).toHaveLength(0);
  });
});
