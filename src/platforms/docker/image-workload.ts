import type Dockerode from 'dockerode';
import { BenchError } from '../../errors.js';
import type { ImageLaunch } from '../../workload/image-workload.js';
import { LOOPBACK } from '../host/ports.js';
import type { InstanceSpec } from '../platform.js';
import type { DockerPlatformConfig } from './create-options.js';

/**
 * A container of an image workload ("bring your own server"): the built-in
 * server's create options (labels, name, runtime, CPU and memory limits)
 * with what the image decides left to the image — its own environment,
 * user and command, all in the imported image's config — plus its stop
 * signal, and its server's port published on 127.0.0.1 only. The image's
 * server binds whatever it binds inside its own network namespace, so only
 * a bridge network keeps it off the host's interfaces.
 */
export function imageContainerOptions(
  base: Dockerode.ContainerCreateOptions,
  launch: ImageLaunch,
  config: DockerPlatformConfig,
  spec: InstanceSpec,
): Dockerode.ContainerCreateOptions {
  if (config.network !== 'bridge') {
    throw new BenchError('input', 'an image workload runs on network: bridge (its server binds its own address and port; bridge publishes it on 127.0.0.1 only)', {
      hint: 'set network: bridge on the docker platform',
    });
  }
  const port = `${launch.port}/tcp`;
  const { User: _user, Env: _env, ...rest } = base;
  return {
    ...rest,
    StopSignal: launch.stopSignal,
    ExposedPorts: { [port]: {} },
    HostConfig: {
      ...base.HostConfig,
      PortBindings: { [port]: [{ HostIp: LOOPBACK, HostPort: String(spec.port) }] },
    },
  };
}
