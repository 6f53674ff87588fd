import type Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import type { PlatformConfig } from '../scenario/schema.js';
import { DockerPlatform } from './docker.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu.js';

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
        { cpus: config.cpus, memoryBytes: config.memory, network: config.network },
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
      throw new BenchError('unsupported', `platform "${config.name}": kind "vagrant" is not implemented yet`, {
        hint: 'use kind: qemu for a VM until the Vagrant substrate lands',
      });
  }
}
