/**
 * Real memory readings: one container (host network) and one on a bridge
 * with a published port (docker-proxy), with the ResNet-18 artifact, launched
 * through the platform, read after readiness + a settle pause, checked for
 * plausibility, printed, and stopped. The VM's reading is checked on the VM
 * qemu.test.ts boots anyway.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureMemory, type MemoryMeasurement } from '../../src/measure/memory.js';
import { measureStartup } from '../../src/measure/startup.js';
import { defaultCacheDir } from '../../src/paths.js';
import { DockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import type { Instance, Platform } from '../../src/platforms/platform.js';
import { QemuPlatform } from '../../src/platforms/qemu/qemu-platform.js';
import { belongsToRun, listVmbenchQemuProcesses } from '../../src/platforms/qemu/procs.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';

const docker = new Dockerode();
const cacheDir = defaultCacheDir();
const runId = `itest-mem-${process.pid.toString(36)}${Date.now().toString(36)}`;
const SETTLE_MS = 1000;
const log = (line: string) => process.stdout.write(`${line}\n`);
const f = (v: number) => v.toFixed(1);

let artifact: Artifact;
const results: Array<{ label: string; m: MemoryMeasurement }> = [];

beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir, model: 'resnet18', docker });
}, 900_000);

afterAll(async () => {
  await new DockerPlatform('cleanup', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).cleanupRun(runId);
  await new QemuPlatform('cleanup', { cpus: 1, memoryBytes: 512 * 2 ** 20, accel: 'tcg', machine: 'auto', bootTimeoutMs: 60_000 }, { cacheDir }).cleanupRun(runId);
  if (results.length) {
    log('memory (MiB)          host   workload PSS   overhead        page cache  parts');
    for (const { label, m } of results) {
      const o = m.overhead;
      log(
        `${label.padEnd(18)} ${f(o.hostMiB).padStart(7)} ${f(o.workloadPssMiB).padStart(14)} ${f(o.overheadMiB).padStart(8)} (${f(o.overheadPct).padStart(5)} %) ${
          o.pageCacheMiB === null ? '        n/a' : f(o.pageCacheMiB).padStart(11)
        }  ${Object.entries(o.parts).map(([k, v]) => `${k}=${f(v)}`).join(' ')}`,
      );
    }
    log(`host: ${JSON.stringify(results[0]!.m.host)}`);
  }
});

async function launchAndRead<I extends Instance>(
  platform: Platform<I>,
  instanceId: string,
  threads: number,
  readyTimeoutMs: number,
): Promise<{ inst: I; m: MemoryMeasurement }> {
  await platform.prepare(artifact);
  const inst = await platform.launch({ runId, instanceId, port: await freePort(), threads, modelName: 'model' });
  try {
    const startup = await measureStartup(inst, { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: readyTimeoutMs });
    const m = await measureMemory(platform, inst, { settleMs: SETTLE_MS });
    log(`${platform.name}: ready in ${startup.ms.toFixed(0)} ms; read ${m.sinceReadyMs.toFixed(0)} ms after ready`);
    log(`  method: ${m.reading.method}`);
    log(`  info: ${Object.entries(m.reading.host.info).map(([k, v]) => `${k}=${f(v / 2 ** 20)}`).join(' ')}`);
    if (m.reading.notes.length) log(`  notes: ${m.reading.notes.join(' | ')}`);
    return { inst, m };
  } finally {
    await platform.stop(inst);
  }
}

function checkWorkload(m: MemoryMeasurement): void {
  const w = m.reading.workload;
  expect(w.command).toContain('/app/server.mjs');
  expect(m.overhead.workloadPssMiB).toBeGreaterThan(100);
  expect(m.overhead.workloadPssMiB).toBeLessThan(1000);
  expect(w.rssBytes).toBeGreaterThanOrEqual(w.pssBytes);
  expect(m.host.thpEnabled === null || typeof m.host.thpEnabled === 'string').toBe(true);
}

describe('memory readings on real instances (ResNet-18)', () => {
  it.each(['host', 'bridge'] as const)('container (%s network): cgroup + shim (+ proxy) ≥ workload PSS', async (network) => {
    const platform = new DockerPlatform(`docker-${network}`, { cpus: 1, memoryBytes: 1024 * 2 ** 20, network }, docker);
    // 1 CPU, 1 ORT thread, like the VM below: the server's memory depends on its thread count.
    const { inst, m } = await launchAndRead(platform, `c-${network}`, 1, 60_000);
    results.push({ label: `container ${network}`, m });
    const r = m.reading;
    expect(r.kind).toBe('docker');
    expect(r.workload.seenFrom).toBe('host');
    expect(r.method).toMatch(/cgroup v[12] \/\S+/);
    expect(r.host.counted.shimPss).toBeGreaterThan(0);
    expect(r.host.processes.some((p) => p.command.includes('containerd-shim'))).toBe(true);
    if (network === 'bridge') expect(r.host.counted.proxyPss).toBeGreaterThan(0);
    else expect(r.host.counted.proxyPss).toBeUndefined();
    expect(r.host.counted.cgroupAnon).toBeGreaterThan(50 * 2 ** 20);
    expect(r.host.pageCacheBytes).not.toBeNull();
    checkWorkload(m);
    expect(m.overhead.hostMiB).toBeGreaterThanOrEqual(m.overhead.workloadPssMiB);
    expect(r.host.attributableBytes).toBe(Object.values(r.host.counted).reduce((a, b) => a + b, 0));
    const left = await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    expect(left.filter((c) => c.Id === (inst as { containerId?: string }).containerId)).toHaveLength(0);
  });

  it('leaves no container behind', async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    expect(left).toHaveLength(0);
  });
});
