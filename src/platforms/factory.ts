import type Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import type { PlatformConfig } from '../scenario/schema.js';
import { DockerPlatform } from './docker/docker-platform.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu/qemu-platform.js';
import { dockerRemote, remoteDockerClient } from './remote/docker-remote.js';
import { RemoteQemuPlatform } from './remote/qemu/remote-qemu-platform.js';
import type { HostRegistry } from './remote/remote-host.js';
import { VagrantPlatform } from './vagrant/vagrant-platform.js';

export interface PlatformContext {
  docker: Dockerode;
  cacheDir: string;
  log?: (line: string) => void;
  /** The scenario's remote hosts (platforms whose host is not `local`). */
  hosts?: HostRegistry;
}

/** Maps a scenario's platform entry to the substrate that runs it, on the host it names. */
export function createPlatform(config: PlatformConfig, ctx: PlatformContext): Platform {
  const host = config.host ?? 'local';
  const remote = host !== 'local' ? (ctx.hosts ?? missingHosts(host)).get(host) : null;
  switch (config.kind) {
    case 'docker': {
      const docker = { cpus: config.cpus, memoryBytes: config.memory, network: config.network, runtime: config.runtime };
      if (!remote) return new DockerPlatform(config.name, docker, ctx.docker);
      const engine = remoteDockerClient(remote);
      return new DockerPlatform(config.name, docker, engine, dockerRemote(remote, ctx.docker, engine));
    }
    case 'qemu': {
      const qemu = { cpus: config.cpus, memoryBytes: config.memory, accel: config.accel, machine: config.machine, bootTimeoutMs: config.boot_timeout };
      if (remote) return new RemoteQemuPlatform(config.name, qemu, remote, { cacheDir: ctx.cacheDir, log: ctx.log });
      return new QemuPlatform(config.name, qemu, { cacheDir: ctx.cacheDir, log: ctx.log });
    }
    case 'vagrant':
      if (remote) {
        throw new BenchError('unsupported', `${config.name}: kind: vagrant on a remote host (${config.host}) is not built yet (libvirt's qemu+ssh:// URI is the planned way)`, {
          hint: 'run the VM there with kind: qemu (QEMU over SSH), or run vagrant on that host itself',
        });
      }
      return new VagrantPlatform(
        config.name,
        {
          cpus: config.cpus,
          memoryBytes: config.memory,
          provider: config.provider,
          accel: config.accel,
          bootTimeoutMs: config.boot_timeout,
          tcgTbSizeMiB: Math.round(config.tcg_tb_size / 2 ** 20),
        },
        { cacheDir: ctx.cacheDir, log: ctx.log },
      );
  }
}

function missingHosts(name: string): never {
  throw new BenchError('internal', `platform on host ${name} but no host registry was given to createPlatform`);
}
