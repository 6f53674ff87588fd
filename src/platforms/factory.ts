import type Dockerode from 'dockerode';
import type { PlatformConfig } from '../scenario/schema.js';
import { DockerPlatform } from './docker/docker-platform.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu/qemu-platform.js';
import { VagrantPlatform } from './vagrant/vagrant-platform.js';

export interface PlatformContext {
  docker: Dockerode;
  cacheDir: string;
  log?: (line: string) => void;
}

/** Maps a scenario's platform entry to the substrate that runs it. */
export function createPlatform(config: PlatformConfig, ctx: PlatformContext): Platform {
  switch (config.kind) {
    case 'docker':
      return new DockerPlatform(
        config.name,
        { cpus: config.cpus, memoryBytes: config.memory, network: config.network, runtime: config.runtime },
        ctx.docker,
      );
    case 'qemu':
      return new QemuPlatform(
        config.name,
        {
          cpus: config.cpus,
          memoryBytes: config.memory,
          accel: config.accel,
          machine: config.machine,
          bootTimeoutMs: config.boot_timeout,
        },
        { cacheDir: ctx.cacheDir, log: ctx.log },
      );
    case 'vagrant':
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
