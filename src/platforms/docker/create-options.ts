import type Dockerode from 'dockerode';
import { DEFAULT_MODEL_NAME, SERVER_ENV, SERVER_PORT_INSIDE, WORKLOAD_USER } from '../../workload/contract.js';
import { LOOPBACK } from '../host/ports.js';
import type { InstanceSpec } from '../platform.js';
import { withGpu, type ContainerGpu } from './gpu-options.js';

export interface DockerPlatformConfig {
  cpus: number;
  memoryBytes: number;
  network: 'host' | 'bridge';
  /** OCI runtime registered with the engine (HostConfig.Runtime); runc when absent. */
  runtime?: string;
  /** GPU access, as prepare() resolved it (gpu-options.ts); absent for CPU inference. */
  gpu?: ContainerGpu;
}

/** Every container, and every image a snapshot commits, carries the run id in this label. */
export const RUN_LABEL = 'vmbench.run';

export function containerName(runId: string, instanceId: string): string {
  return `vmbench-${runId}-${instanceId}`;
}

/** Processes a workload container may hold (the server, its worker threads, an exec for a reading). */
export const PIDS_LIMIT = 256;

/**
 * Least privilege, the same for every instance: the workload's unprivileged
 * user, no capabilities, no privilege gain through setuid binaries, a
 * read-only root filesystem (a tmpfs for /tmp) and limits on memory, CPU and
 * processes. Recorded with the platform's facts.
 */
export const CONTAINER_SECURITY = `uid ${WORKLOAD_USER.uid}, cap-drop ALL, no-new-privileges, read-only rootfs (tmpfs /tmp), pids ≤ ${PIDS_LIMIT}, memory and CPU limits`;

/**
 * Builds the Docker Engine create-container body. Pure, so the network rules
 * (127.0.0.1 only) and the security settings are unit-testable without an engine.
 */
export function containerCreateOptions(
  image: string,
  platformName: string,
  config: DockerPlatformConfig,
  spec: InstanceSpec,
): Dockerode.ContainerCreateOptions {
  const host = config.network === 'host';
  const port = host ? spec.port : SERVER_PORT_INSIDE;
  const env = [
    // Host networking shares the host's stack: bind loopback only. On a bridge the
    // server must listen on the container's interface; only 127.0.0.1 is published.
    `${SERVER_ENV.host}=${host ? LOOPBACK : '0.0.0.0'}`,
    `${SERVER_ENV.port}=${port}`,
    `${SERVER_ENV.threads}=${spec.threads}`,
    `${SERVER_ENV.modelName}=${spec.modelName || DEFAULT_MODEL_NAME}`,
  ];
  const options: Dockerode.ContainerCreateOptions = {
    name: containerName(spec.runId, spec.instanceId),
    Image: image,
    Env: env,
    User: `${WORKLOAD_USER.uid}:${WORKLOAD_USER.gid}`,
    Labels: {
      [RUN_LABEL]: spec.runId,
      'vmbench.instance': spec.instanceId,
      'vmbench.platform': platformName,
    },
    HostConfig: {
      Runtime: config.runtime ?? 'runc',
      NetworkMode: config.network,
      NanoCpus: Math.round(config.cpus * 1e9),
      Memory: config.memoryBytes,
      MemorySwap: config.memoryBytes, // no swap: a VM has none either
      PidsLimit: PIDS_LIMIT,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
      AutoRemove: false,
    },
  };
  if (!host) {
    options.ExposedPorts = { [`${SERVER_PORT_INSIDE}/tcp`]: {} };
    options.HostConfig!.PortBindings = {
      [`${SERVER_PORT_INSIDE}/tcp`]: [{ HostIp: LOOPBACK, HostPort: String(spec.port) }],
    };
  }
  return withGpu(options, config.gpu);
}
