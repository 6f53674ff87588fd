import type Dockerode from 'dockerode';
import type { PlatformConfig, Scenario } from '../scenario/schema.js';
import { DockerPlatform } from './docker/docker-platform.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu/qemu-platform.js';
import { VagrantPlatform } from './vagrant/vagrant-platform.js';

export interface PlatformContext {
  docker: Dockerode;
  cacheDir: string;
  log?: (line: string) => void;
  /** The scenario's workload: with device: gpu each platform attaches its GPUs (gpus / vfio / pci). */
  workload?: Pick<Scenario['workload'], 'device' | 'fallback' | 'gpu'>;
}

/** Maps a scenario's platform entry to the substrate that runs it. */
export function createPlatform(config: PlatformConfig, ctx: PlatformContext): Platform {
  const gpu = ctx.workload?.device === 'gpu' ? { fallback: ctx.workload.fallback === 'cpu' } : undefined;
  switch (config.kind) {
    case 'docker':
      return new DockerPlatform(
        config.name,
        { cpus: config.cpus, memoryBytes: config.memory, network: config.network, runtime: config.runtime },
        ctx.docker,
        gpu ? { selection: config.gpus ?? 'all', fallback: gpu.fallback } : undefined,
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
          ...(gpu ? { gpu: { vfio: config.vfio ?? [], fallback: gpu.fallback } } : {}),
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
          ...(gpu ? { gpu: { pci: config.pci ?? [], fallback: gpu.fallback } } : {}),
        },
        { cacheDir: ctx.cacheDir, log: ctx.log },
      );
  }
}
