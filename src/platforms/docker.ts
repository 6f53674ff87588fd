import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../errors.js';
import { DEFAULT_MODEL_NAME, SERVER_ENV } from '../workload/contract.js';
import type { Artifact } from '../workload/artifact.js';
import type { PhaseTimeline } from '../measure/phases.js';
import { readDockerMemory } from './memory-docker.js';
import { dockerStartupPhases } from './phases-docker.js';
import { dockerSnapshotRestore } from './snapshot-docker.js';
import type { SnapshotRestoreOptions, SnapshotRestoreResult } from '../measure/snapshot.js';
import type { MemoryReading } from './memory-types.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts } from './platform.js';

export interface DockerPlatformConfig {
  cpus: number;
  memoryBytes: number;
  network: 'host' | 'bridge';
}

export interface DockerInstance extends Instance {
  readonly kind: 'docker';
  readonly containerId: string;
}

/** Port the server listens on inside a bridge-networked container. */
const BRIDGE_CONTAINER_PORT = 8080;
export const RUN_LABEL = 'vmbench.run';

export function containerName(runId: string, instanceId: string): string {
  return `vmbench-${runId}-${instanceId}`;
}

/**
 * Builds the Docker Engine create-container body. Pure, so the network rules
 * (127.0.0.1 only) are unit-testable without an engine.
 */
export function containerCreateOptions(
  image: string,
  platformName: string,
  config: DockerPlatformConfig,
  spec: InstanceSpec,
): Dockerode.ContainerCreateOptions {
  const host = config.network === 'host';
  const port = host ? spec.port : BRIDGE_CONTAINER_PORT;
  const env = [
    // Host networking shares the host's stack: bind loopback only. On a bridge the
    // server must listen on the container's interface; only 127.0.0.1 is published.
    `${SERVER_ENV.host}=${host ? '127.0.0.1' : '0.0.0.0'}`,
    `${SERVER_ENV.port}=${port}`,
    `${SERVER_ENV.threads}=${spec.threads}`,
    `${SERVER_ENV.modelName}=${spec.modelName || DEFAULT_MODEL_NAME}`,
  ];
  const options: Dockerode.ContainerCreateOptions = {
    name: containerName(spec.runId, spec.instanceId),
    Image: image,
    Env: env,
    Labels: {
      [RUN_LABEL]: spec.runId,
      'vmbench.instance': spec.instanceId,
      'vmbench.platform': platformName,
    },
    HostConfig: {
      NetworkMode: config.network,
      NanoCpus: Math.round(config.cpus * 1e9),
      Memory: config.memoryBytes,
      MemorySwap: config.memoryBytes, // no swap: a VM has none either
      AutoRemove: false,
    },
  };
  if (!host) {
    options.ExposedPorts = { [`${BRIDGE_CONTAINER_PORT}/tcp`]: {} };
    options.HostConfig!.PortBindings = {
      [`${BRIDGE_CONTAINER_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(spec.port) }],
    };
  }
  return options;
}

/** The workload in a Docker container, driven through the Engine API (dockerode). */
export class DockerPlatform extends Platform<DockerInstance> {
  readonly kind = 'docker' as const;
  private image?: string;

  constructor(
    name: string,
    private readonly config: DockerPlatformConfig,
    private readonly docker: Dockerode,
  ) {
    super(name);
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    const version = await engineVersion(this.docker);
    try {
      await this.docker.getImage(artifact.docker.image).inspect();
    } catch (cause) {
      throw new BenchError('infrastructure', `Docker image ${artifact.docker.image} is missing`, {
        hint: 'run `npx bench images build` (a run builds it on first use)',
        cause,
      });
    }
    this.image = artifact.docker.image;
    return {
      engineVersion: version.Version,
      engineApiVersion: version.ApiVersion,
      network: this.config.network,
      cpus: this.config.cpus,
      memoryBytes: this.config.memoryBytes,
      image: artifact.docker.image,
    };
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<DockerInstance> {
    if (!this.image) throw new BenchError('internal', 'DockerPlatform.launch before prepare');
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer(
        containerCreateOptions(this.image, this.name, this.config, spec),
      );
      this.mark(lifecycle, 'created');
      await container.start();
      this.mark(lifecycle, 'started');
    } catch (cause) {
      await this.removeQuietly(containerName(spec.runId, spec.instanceId));
      throw new BenchError('infrastructure', `docker: cannot start container: ${messageOf(cause)}`, { cause });
    }
    return {
      id: spec.instanceId,
      platformName: this.name,
      kind: 'docker',
      baseUrl: `http://127.0.0.1:${spec.port}`,
      lifecycle,
      containerId: container.id,
      facts: { containerId: container.id.slice(0, 12), network: this.config.network },
    };
  }

  protected async doStop(instance: DockerInstance): Promise<void> {
    const container = this.docker.getContainer(instance.containerId);
    try {
      await container.stop({ t: 2 });
    } catch {
      // already stopped or gone: removal below is what matters
    }
    await this.removeQuietly(instance.containerId);
  }

  async cleanupRun(runId: string): Promise<void> {
    await removeLabelled(this.docker, `${RUN_LABEL}=${runId}`);
    await removeLabelledImages(this.docker, `${RUN_LABEL}=${runId}`);
  }

  /** cgroup + shim (+ docker-proxy) on the host, the server's smaps_rollup: see memory-docker.ts. */
  override async memoryReading(instance: DockerInstance): Promise<MemoryReading> {
    return readDockerMemory(this.docker, instance.containerId);
  }

  /** Server phase lines from the container's logs (host clock, ±1 ms): see phases-docker.ts. */
  override async startupPhases(instance: DockerInstance): Promise<PhaseTimeline> {
    return dockerStartupPhases(this.docker, instance.containerId, instance.lifecycle);
  }

  /** Changes the running container's cpuset (docker update --cpuset-cpus). */
  override async pinCpus(instance: DockerInstance, cpus: string): Promise<void> {
    await this.docker.getContainer(instance.containerId).update({ CpusetCpus: cpus });
  }

  /** `docker exec <id> true` through the Engine API, `count` times. */
  override async execRoundTripMs(instance: DockerInstance, count: number): Promise<number[]> {
    const container = this.docker.getContainer(instance.containerId);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const exec = await container.exec({ Cmd: ['true'], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      await new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
        stream.resume();
      });
      out.push(performance.now() - t0);
    }
    return out;
  }

  /** Fresh start vs a container from a `docker commit` image (filesystem only): see snapshot-docker.ts. */
  override async snapshotRestore(spec: InstanceSpec, opts: SnapshotRestoreOptions): Promise<SnapshotRestoreResult> {
    if (!this.image) throw new BenchError('internal', 'DockerPlatform.snapshotRestore before prepare');
    return dockerSnapshotRestore({ platform: this, docker: this.docker, image: this.image, config: this.config }, spec, opts);
  }

  private async removeQuietly(idOrName: string): Promise<void> {
    try {
      await this.docker.getContainer(idOrName).remove({ force: true, v: true });
    } catch {
      // nothing to remove
    }
  }
}

/** Force-remove every container matching a label filter (`key` or `key=value`); returns how many. */
export async function removeLabelled(docker: Dockerode, label: string): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)),
  );
  return containers.length;
}

/** Force-remove every image matching a label filter (images committed by snapshot runs); returns how many. */
export async function removeLabelledImages(docker: Dockerode, label: string): Promise<number> {
  const images = await docker.listImages({ all: true, filters: { label: [label] } });
  await Promise.all(images.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
  return images.length;
}

export async function engineVersion(docker: Dockerode): Promise<Dockerode.DockerVersion> {
  try {
    return await docker.version();
  } catch (cause) {
    throw new BenchError('infrastructure', `Docker Engine does not answer: ${messageOf(cause)}`, {
      hint: 'start it with ./scripts/setup.sh (it starts dockerd when none answers)',
      cause,
    });
  }
}
