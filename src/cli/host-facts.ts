import os from 'node:os';
import type Dockerode from 'dockerode';
import { messageOf } from '../errors.js';
import { gatherGpuFindings } from './doctor/gpu-gather.js';
import { gpuProblems, gpuWantsOf } from './doctor/gpu-readiness.js';
import { findQemuTools } from '../platforms/qemu/tools.js';
import type { HostFacts } from '../scenario/preflight.js';
import type { Scenario } from '../scenario/schema.js';

/**
 * What the preflight needs to know about this host for one scenario: its
 * CPUs and memory, and for each engine the scenario uses whether it answers
 * (a few ms each; only what the scenario needs is asked). Vagrant is set up
 * on demand by its platform, so only its host resources are checked here.
 */
export async function gatherHostFacts(scenario: Scenario, docker: Dockerode): Promise<HostFacts> {
  const kinds = new Set(scenario.platforms.map((p) => p.kind));
  const engines: HostFacts['engines'] = {};
  if (kinds.has('docker')) {
    engines.docker = await docker.ping().then(
      () => null,
      (err: unknown) => `the Docker Engine does not answer (${messageOf(err)}); ./scripts/setup.sh starts one`,
    );
  }
  if (kinds.has('qemu')) {
    engines.qemu = await findQemuTools().then(
      () => null,
      (err: unknown) => messageOf(err),
    );
  }
  const facts: HostFacts = { cpus: os.cpus().length, memoryBytes: os.totalmem(), engines };
  if (kinds.has('docker') && engines.docker === null) {
    const info = (await docker.info().catch(() => null)) as { Runtimes?: Record<string, unknown> } | null;
    if (info) facts.dockerRuntimes = Object.keys(info.Runtimes ?? {});
  }
  if (scenario.workload.device === 'gpu') {
    const wants = gpuWantsOf(scenario);
    facts.gpu = gpuProblems(await gatherGpuFindings(wants, { docker: engines.docker === null ? docker : null }), wants);
  }
  return facts;
}
