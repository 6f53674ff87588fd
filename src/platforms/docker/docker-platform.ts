import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import type { Artifact } from '../../workload/artifact.js';
import type { MemoryReading } from '../memory-reading.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts, type PostMortem } from '../platform.js';
import type { Snapshot, SnapshotVariant } from '../snapshot.js';
import type { DockerRemote } from '../remote/docker-remote.js';
import type { PhaseTimeline } from '../timeline.js';
import { checkpointContainer, checkpointFailure, checkpointSupport, removeCheckpoints, removeRunCheckpoints, startFromCheckpoint } from './checkpoint.js';
import { commitContainer, removeCommit } from './commit-snapshot.js';
import { CONTAINER_SECURITY, containerCreateOptions, containerName, RUN_LABEL, type DockerPlatformConfig } from './create-options.js';
import { engineVersion, removeContainerQuietly, removeLabelled, removeLabelledImages } from './engine.js';
import { dockerStartupPhases } from './log-phases.js';
import { readDockerMemory } from './memory.js';
import { pinContainer } from './pin.js';
import { containerPostMortem, engineHealth } from './post-mortem.js';
import { engineRuntimes, isGvisor, runtimeFacts, type RuntimeFacts } from './runtime.js';
import { execInContainer } from './exec.js';
import { imageContainerOptions } from './image-workload.js';
import { IMAGE_BUSYBOX, IMAGE_SHELL, type ImageLaunch } from '../../workload/image-workload.js';
import { detectDockerGpuHost, dockerInfoForGpu, resolveContainerGpu, type ContainerGpuRequest } from './gpu-host.js';
import type { ContainerGpu, DockerGpuHost } from './gpu-options.js';
import { runHostCommand } from '../host/command-runner.js';
import { readContainerGpu } from './gpu-reading.js';
import type { GpuReading } from '../gpu-reading.js';

export type { DockerPlatformConfig } from './create-options.js';

export interface DockerInstance extends Instance {
  readonly kind: 'docker';
  readonly containerId: string;
}

/**
 * The workload in a Docker container, driven through the Engine API
 * (dockerode). With `remote`, the engine is another host's (reached over SSH,
 * remote/docker-remote.ts): ports, host files, load and epoch stamps are then
 * that host's.
 */
export class DockerPlatform extends Platform<DockerInstance> {
  readonly kind = 'docker' as const;
  get cpus(): number {
    return this.config.cpus;
  }
  private image?: string;
  /** An image workload's launch (its server's port, stop signal); undefined for the built-in server. */
  private imageLaunch?: ImageLaunch;
  private runtime?: RuntimeFacts & { gvisor: boolean };
  /** GPU access resolved by prepare() (device: gpu only). */
  private gpu?: ContainerGpu;
  private gpuFacts: Record<string, string> = {};

  constructor(
    name: string,
    private readonly config: DockerPlatformConfig,
    private readonly docker: Dockerode,
    /** GPUs for the workload (device: gpu), and how the host's GPU facts are read (tests pass fixtures). */
    private readonly gpuRequest?: ContainerGpuRequest,
    private readonly gpuHost: () => Promise<DockerGpuHost> = async () => detectDockerGpuHost(await dockerInfoForGpu(docker), { run: runHostCommand }),
    private readonly remote?: DockerRemote,
  ) {
    super(name);
    if (remote) this.hostFs = remote.fs;
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    const version = await engineVersion(this.docker);
    const onHost = this.remote ? await this.remote.syncImage(artifact.docker.image) : {};
    try {
      await this.docker.getImage(artifact.docker.image).inspect();
    } catch (cause) {
      throw new BenchError('infrastructure', `Docker image ${artifact.docker.image} is missing`, {
        hint: 'run `npx bench images build` (a run builds it on first use)',
        cause,
      });
    }
    this.image = artifact.docker.image;
    this.imageLaunch = artifact.image?.launch;
    const name = this.config.runtime ?? 'runc';
    const runtimes = await engineRuntimes(this.docker);
    const registered = runtimes.get(name);
    if (!registered) {
      throw new BenchError('unsupported', `docker: the engine has no runtime "${name}" (it has: ${[...runtimes.keys()].join(', ') || 'none'})`, {
        hint: 'register it in /etc/docker/daemon.json "runtimes" (./scripts/setup.sh does crun and runsc) and reload dockerd; `bench doctor` lists the runtimes',
      });
    }
    this.runtime = { ...(await runtimeFacts(registered)), gvisor: isGvisor(registered) };
    if (this.gpuRequest) {
      ({ gpu: this.gpu, facts: this.gpuFacts } = await resolveContainerGpu(this.gpuRequest, { name, gvisor: this.runtime.gvisor, runtimeArgs: registered.runtimeArgs }, this.gpuHost));
    }
    const { gvisor: _g, ...runtime } = this.runtime;
    return {
      engineVersion: version.Version,
      engineApiVersion: version.ApiVersion,
      network: this.config.network,
      cpus: this.config.cpus,
      memoryBytes: this.config.memoryBytes,
      image: artifact.docker.image,
      security: CONTAINER_SECURITY,
      ...runtime,
      ...this.gpuFacts,
      ...(this.remote ? { host: this.remote.name, engineTransport: 'ssh: docker system dial-stdio', ...onHost } : {}),
    };
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<DockerInstance> {
    if (!this.image) throw new BenchError('internal', 'DockerPlatform.launch before prepare');
    return this.startContainer(this.image, await this.onHost(spec), lifecycle);
  }

  override hostLostSince(sinceMono: number): string | null {
    return this.remote?.lostSince(sinceMono) ?? null;
  }

  /** On a remote host the server's port must be free there, not here. */
  private async onHost(spec: InstanceSpec): Promise<InstanceSpec> {
    return this.remote ? { ...spec, port: await this.remote.freePort() } : spec;
  }

  /** create + start, marking both on the lifecycle; a container that fails to start is removed. */
  private async startContainer(
    image: string,
    spec: InstanceSpec,
    lifecycle: Lifecycle,
    facts: Record<string, string> = {},
    start: (c: Dockerode.Container) => Promise<unknown> = (c) => c.start(),
  ): Promise<DockerInstance> {
    let container: Dockerode.Container;
    try {
      const options = containerCreateOptions(image, this.name, { ...this.config, gpu: this.gpu }, spec);
      container = await this.docker.createContainer(this.imageLaunch ? imageContainerOptions(options, this.imageLaunch, this.config, spec) : options);
      this.mark(lifecycle, 'created');
      await start(container);
      this.mark(lifecycle, 'started');
    } catch (cause) {
      await removeContainerQuietly(this.docker, containerName(spec.runId, spec.instanceId));
      throw new BenchError('infrastructure', `docker: cannot start container: ${messageOf(cause)}`, { cause });
    }
    return {
      id: spec.instanceId,
      runId: spec.runId,
      platformName: this.name,
      kind: 'docker',
      baseUrl: `http://127.0.0.1:${spec.port}`,
      lifecycle,
      containerId: container.id,
      ...(this.remote ? { loadSite: this.remote.site } : {}),
      facts: {
        ...(this.remote ? { host: this.remote.name } : {}),
        containerId: container.id.slice(0, 12),
        network: this.config.network,
        runtime: this.runtime?.runtime ?? this.config.runtime ?? 'runc',
        ...(this.runtime?.gvisorPlatform ? { gvisorPlatform: this.runtime.gvisorPlatform, gvisorNetwork: this.runtime.gvisorNetwork ?? '' } : {}),
        ...(this.gpu ? { gpuAccess: this.gpu.access.mode } : {}),
        ...facts,
      },
    };
  }

  protected async doStop(instance: DockerInstance): Promise<void> {
    const container = this.docker.getContainer(instance.containerId);
    try {
      await container.stop({ t: 2 });
    } catch {
      // already stopped or gone: removal below is what matters
    }
    await removeContainerQuietly(this.docker, instance.containerId);
  }

  override async postMortem(instance: DockerInstance): Promise<PostMortem | null> {
    return containerPostMortem(this.docker, instance.containerId);
  }

  override async health(): Promise<PostMortem | null> {
    return engineHealth(this.docker);
  }

  async cleanupRun(runId: string): Promise<void> {
    await removeLabelled(this.docker, `${RUN_LABEL}=${runId}`);
    await removeLabelledImages(this.docker, `${RUN_LABEL}=${runId}`);
    await removeRunCheckpoints(runId);
  }

  /**
   * cgroup + shim (+ docker-proxy) on the host, the server's smaps_rollup: see
   * memory.ts. Under gVisor the server runs inside the sandbox's own kernel,
   * so it is read from inside (docker exec), and the sandbox's sentry and
   * gofer are what the host sees.
   */
  override async memoryReading(instance: DockerInstance): Promise<MemoryReading> {
    return readDockerMemory(this.docker, instance.containerId, { workloadInside: this.runtime?.gvisor === true, shell: this.imageLaunch ? IMAGE_SHELL : undefined, fs: this.hostFs });
  }

  /** A file inside the running container, read with a cat that is there whatever the image has (docker exec). */
  override async readFileInside(instance: DockerInstance, path: string): Promise<string> {
    const cat = this.imageLaunch ? [IMAGE_BUSYBOX, 'cat', path] : ['cat', path];
    const r = await execInContainer(this.docker, instance.containerId, cat, 10_000);
    if (r.code !== 0) throw new BenchError('infrastructure', `docker exec ${cat.join(' ')} in ${instance.containerId.slice(0, 12)} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
    return r.stdout;
  }

  /** GPU memory of the container's processes and the utilisation of their GPUs (host nvidia-smi): see gpu-reading.ts. */
  override async gpuReading(instance: DockerInstance): Promise<GpuReading> {
    return readContainerGpu(this.docker, instance.containerId, runHostCommand);
  }

  /** Server phase lines from the container's logs (host clock, ±1 ms): see log-phases.ts. */
  override async startupPhases(instance: DockerInstance): Promise<PhaseTimeline> {
    // The server's epoch stamps are its host's clock: on a remote host, shift launchEpochMs onto it.
    const offset = this.remote ? await this.remote.wallOffsetMs() : 0;
    return dockerStartupPhases(this.docker, instance.containerId, offset ? { ...instance.lifecycle, launchEpochMs: instance.lifecycle.launchEpochMs + offset } : instance.lifecycle);
  }

  /** Changes the running container's cpuset (docker update --cpuset-cpus). */
  override async pinCpus(instance: DockerInstance, cpus: string): Promise<void> {
    instance.facts.pinnedBy = await pinContainer(this.docker, instance.containerId, cpus);
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

  /**
   * A memory checkpoint where the engine and runtime can make one
   * (checkpoint.ts), else — or when it fails — `docker commit` of the
   * container, filesystem only, with the reason recorded (commit-snapshot.ts).
   */
  override async snapshot(instance: DockerInstance): Promise<Snapshot> {
    if (!this.image || !this.runtime) throw new BenchError('internal', 'DockerPlatform.snapshot before prepare');
    const o = {
      platformName: this.name, runId: instance.runId, instanceId: instance.id, containerId: instance.containerId,
      baseImage: this.image, network: this.config.network, port: Number(new URL(instance.baseUrl).port),
    };
    // A checkpoint lives in a directory on the engine's host: not done for a remote host (commit still works through the API).
    const support = this.remote
      ? { attempt: false, reason: `no memory checkpoint on a remote host (${this.remote.name}): its checkpoint directory is not this machine's`, facts: {} }
      : await checkpointSupport(this.docker, { name: this.runtime.runtime, gvisor: this.runtime.gvisor });
    let reason = support.reason;
    if (support.attempt) {
      try {
        return await checkpointContainer(this.docker, o);
      } catch (err) {
        reason = `docker checkpoint failed (${this.runtime.runtime}): ${checkpointFailure(messageOf(err))}`;
      }
    }
    return commitContainer(this.docker, o, { facts: support.facts, reason });
  }

  /** A new container from the committed image, or from the checkpoint (on the port the restored process listens on). */
  protected override async doRestore(_snapshot: Snapshot, variant: SnapshotVariant, spec: InstanceSpec, lifecycle: Lifecycle): Promise<DockerInstance> {
    const image = variant.handle.image;
    if (typeof image !== 'string') throw new BenchError('internal', `docker restore: snapshot variant ${variant.name} has no image`);
    if (variant.handle.checkpointDir !== undefined) {
      return this.startContainer(image, { ...spec, port: Number(variant.handle.port) }, lifecycle, { restoredFrom: 'checkpoint' }, (c) => startFromCheckpoint(c, variant.handle));
    }
    return this.startContainer(image, await this.onHost(spec), lifecycle, { image: image.slice(0, 19) });
  }

  override async removeSnapshot(snapshot: Snapshot): Promise<void> {
    await removeCheckpoints(snapshot);
    await removeCommit(this.docker, snapshot);
  }
}
