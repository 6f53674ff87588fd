import os from 'node:os';
import type Dockerode from 'dockerode';
import { messageOf } from '../errors.js';
import { detectGpu } from '../platforms/host/gpu.js';
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
  const kinds = new Set(scenario.platforms.filter((p) => p.host === 'local').map((p) => p.kind));
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
    const gpu = await detectGpu();
    facts.gpu = gpu.present ? null : `${gpu.detail}; IOMMU groups: ${gpu.iommuGroups}`;
  }
  return facts;
}
