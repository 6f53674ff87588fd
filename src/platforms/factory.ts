import type Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import type { PlatformConfig, Scenario } from '../scenario/schema.js';
import { DockerPlatform } from './docker/docker-platform.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu/qemu-platform.js';
import { dockerRemote, remoteDockerClient } from './remote/docker-remote.js';
import { RemoteQemuPlatform } from './remote/qemu/remote-qemu-platform.js';
import { RemoteVagrantPlatform } from './remote/vagrant/remote-vagrant-platform.js';
import type { HostRegistry } from './remote/remote-host.js';
import { VagrantPlatform } from './vagrant/vagrant-platform.js';

export interface PlatformContext {
  docker: Dockerode;
  cacheDir: string;
  log?: (line: string) => void;
  /** The scenario's workload: with device: gpu each platform attaches its GPUs (gpus / vfio / pci). */
  workload?: Pick<Scenario['workload'], 'device' | 'fallback' | 'gpu'>;
  /** The scenario's remote hosts (platforms whose host is not `local`). */
  hosts?: HostRegistry;
}

/** Maps a scenario's platform entry to the substrate that runs it, on the host it names. */
export function createPlatform(config: PlatformConfig, ctx: PlatformContext): Platform {
  const gpu = ctx.workload?.device === 'gpu' ? { fallback: ctx.workload.fallback === 'cpu' } : undefined;
  const host = config.host ?? 'local';
  const remote = host !== 'local' ? (ctx.hosts ?? missingHosts(host)).get(host) : null;
  switch (config.kind) {
    case 'docker': {
      const docker = { cpus: config.cpus, memoryBytes: config.memory, network: config.network, runtime: config.runtime };
      const gpuRequest = gpu ? { selection: config.gpus ?? 'all', fallback: gpu.fallback } : undefined;
      if (!remote) return new DockerPlatform(config.name, docker, ctx.docker, gpuRequest);
      const engine = remoteDockerClient(remote);
      // GPU facts of a remote engine are not read yet: a GPU scenario on a remote host is refused by the preflight.
      return new DockerPlatform(config.name, docker, engine, gpuRequest, undefined, dockerRemote(remote, ctx.docker, engine));
    }
    case 'qemu': {
      const qemu = {
        cpus: config.cpus,
        memoryBytes: config.memory,
        accel: config.accel,
        machine: config.machine,
        bootTimeoutMs: config.boot_timeout,
        ...(gpu ? { gpu: { vfio: config.vfio ?? [], fallback: gpu.fallback } } : {}),
      };
      if (remote) return new RemoteQemuPlatform(config.name, qemu, remote, { cacheDir: ctx.cacheDir, log: ctx.log });
      return new QemuPlatform(config.name, qemu, { cacheDir: ctx.cacheDir, log: ctx.log });
    }
    case 'vagrant': {
      const vagrant = {
        cpus: config.cpus,
        memoryBytes: config.memory,
        provider: config.provider,
        accel: config.accel,
        bootTimeoutMs: config.boot_timeout,
        tcgTbSizeMiB: Math.round(config.tcg_tb_size / 2 ** 20),
        ...(gpu ? { gpu: { pci: config.pci ?? [], fallback: gpu.fallback } } : {}),
      };
      // On another host: Vagrant here, libvirt there over its qemu+ssh:// URI.
      if (remote) return new RemoteVagrantPlatform(config.name, vagrant, remote, { cacheDir: ctx.cacheDir, log: ctx.log });
      return new VagrantPlatform(config.name, vagrant, { cacheDir: ctx.cacheDir, log: ctx.log });
    }
  }
}

function missingHosts(name: string): never {
  throw new BenchError('internal', `platform on host ${name} but no host registry was given to createPlatform`);
}
