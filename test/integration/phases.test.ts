/**
 * Startup phase breakdown on a real Docker container (host network), launched
 * through the platform, polled for readiness, asked for startupPhases() before
 * stop. The VM's timeline is checked on the VM qemu.test.ts boots anyway.
 */
import Dockerode from 'dockerode';
import { freePort } from '../../src/platforms/host/ports.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phaseSampleValues } from '../../src/measure/phases.js';
import { PHASE_NAMES, type PhaseName, type PhaseTimeline } from '../../src/platforms/timeline.js';
import { measureStartup } from '../../src/measure/startup.js';
import { defaultCacheDir } from '../../src/paths.js';
import { DockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import type { Instance, Platform } from '../../src/platforms/platform.js';
import { belongsToRun, listVmbenchQemuProcesses } from '../../src/platforms/qemu/procs.js';
import { QemuPlatform } from '../../src/platforms/qemu/qemu-platform.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildArtifact } from '../../src/workload/build/build.js';

const docker = new Dockerode();
const cacheDir = defaultCacheDir();
const runId = `itest-phases-${process.pid.toString(36)}${Date.now().toString(36)}`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const POLL_MS = 10;
let artifact: Artifact;


beforeAll(async () => {
  artifact = await buildArtifact({ cacheDir, model: 'resnet18', docker });
}, 900_000);

afterAll(async () => {
  await new DockerPlatform('cleanup', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, docker).cleanupRun(runId);
  await new QemuPlatform('cleanup', { cpus: 1, memoryBytes: 512 * 2 ** 20, accel: 'tcg', machine: 'auto', bootTimeoutMs: 1 }, { cacheDir }).cleanupRun(runId);
});

/** launch → poll ready every 10 ms → startupPhases → stop; returns the timeline and the harness-observed launch→ready. */
async function measure<I extends Instance>(platform: Platform<I>, instanceId: string): Promise<{ timeline: PhaseTimeline; readyMs: number }> {
  await platform.prepare(artifact);
  const inst = await platform.launch({ runId, instanceId, port: await freePort(), threads: 1, modelName: 'model' });
  try {
    const startup = await measureStartup(inst, { intervalMs: POLL_MS, requestTimeoutMs: 200, timeoutMs: 120_000 });
    const timeline = await platform.startupPhases!(inst);
    log(`${platform.name}: harness launch→ready ${startup.ms.toFixed(1)} ms (${startup.poll.attempts} polls)`);
    log(`  timeline: ${JSON.stringify(timeline)}`);
    return { timeline, readyMs: startup.ms };
  } finally {
    await platform.stop(inst);
  }
}

/** Present phases that go backwards in phase order, as "earlier>later". */
function phaseOrderViolations(t: PhaseTimeline): string[] {
  const present = PHASE_NAMES.filter((n) => t.phases[n] !== undefined);
  return present.slice(1).flatMap((later, i) => (t.phases[later]! < t.phases[present[i]!]! ? [`${present[i]}>${later}`] : []));
}

function expectShape(t: PhaseTimeline, present: PhaseName[], absent: PhaseName[]): void {
  for (const p of present) expect(t.phases[p], p).toBeTypeOf('number');
  for (const p of absent) expect(p in t.phases, p).toBe(false);
  // Non-decreasing, except that a container's process starts DURING the start
  // call, so its timeOrigin may precede the call's return (`started`) — but
  // never the create call's return.
  const violations = phaseOrderViolations(t).filter((v) => v !== 'started>process_start');
  expect(violations).toEqual([]);
  if (t.phases.process_start !== undefined) {
    expect(t.phases.process_start).toBeGreaterThanOrEqual(t.phases.created! - t.resolutionMs);
  }
  expect(phaseSampleValues(t).map((s) => s.metric)).toEqual(present.map((p) => `phase_${p}`));
  expect(t.phases.created!).toBeGreaterThan(0);
}

describe('startup phases (real substrates)', () => {
  it('container: server phases from the logs, on the host clock, no kernel_init', async () => {
    const platform = new DockerPlatform('phases-docker', { cpus: 2, memoryBytes: 1024 * 2 ** 20, network: 'host' }, docker);
    const { timeline, readyMs } = await measure(platform, 'c0');
    expectShape(timeline, ['created', 'started', 'process_start', 'listening', 'model_loaded', 'ready'], ['kernel_init']);
    expect(timeline.source).toBe('docker-logs:server-epoch');
    // The server prints ready just before health/ready answers 200; the harness sees that within a poll.
    expect(Math.abs(timeline.phases.ready! - readyMs)).toBeLessThanOrEqual(150);
    expect(timeline.phases.ready!).toBeLessThanOrEqual(readyMs + timeline.resolutionMs);
    const left = await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    expect(left).toHaveLength(0);
  });

});
