import { BenchError, messageOf } from '../errors.js';
import { siteOf } from '../measure/load-site.js';
import { freePort } from '../platforms/host/ports.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Snapshot, SnapshotVariant } from '../platforms/snapshot.js';
import type { Artifact } from '../workload/artifact.js';
import { ENDPOINTS, type ServerInfo } from '../workload/contract.js';
import type { RunListener } from './events.js';

/**
 * What every launch of one run shares, and the set of instances alive right
 * now — so that whatever fails or is interrupted, stopLive() removes them.
 */
export class RunSession {
  private readonly live = new Set<{ platform: Platform; instance: Instance }>();
  /** Instances launched or restored so far. */
  launches = 0;

  constructor(
    readonly runId: string,
    readonly artifact: Artifact,
    readonly modelName: string,
    /** The run's fixed raw float32 request body. */
    readonly input: Buffer,
    readonly threads: number,
    readonly pollIntervalMs: number,
    readonly signal: AbortSignal,
    private readonly onEvent: RunListener,
  ) {}

  throwIfAborted(): void {
    if (this.signal.aborted) throw new BenchError('interrupted', 'run interrupted');
  }

  private async spec(instanceId: string) {
    return { runId: this.runId, instanceId, port: await freePort(), threads: this.threads, modelName: this.modelName };
  }

  private track(platform: Platform, instance: Instance): Instance {
    this.launches += 1;
    this.live.add({ platform, instance });
    return instance;
  }

  /** Launches a fresh instance, tracked until stop() so an interrupt or crash can remove it. */
  async launch(platform: Platform, instanceId: string): Promise<Instance> {
    this.throwIfAborted();
    return this.track(platform, await platform.launch(await this.spec(instanceId)));
  }

  /** Restores a new instance from a snapshot variant, tracked like launch(). */
  async restore(platform: Platform, snapshot: Snapshot, variant: SnapshotVariant, instanceId: string): Promise<Instance> {
    this.throwIfAborted();
    return this.track(platform, await platform.restore(snapshot, variant, await this.spec(instanceId)));
  }

  /** Stops an instance from launch(); a failure to stop is a warning, not an error. */
  async stop(platform: Platform, instance: Instance): Promise<void> {
    for (const entry of this.live) if (entry.instance === instance) this.live.delete(entry);
    await platform.stop(instance).catch((err: unknown) => {
      this.onEvent({ type: 'warning', message: `${platform.name}: stopping ${instance.id} failed: ${messageOf(err)}` });
    });
  }

  isLive(instance: Instance): boolean {
    return [...this.live].some((e) => e.instance === instance);
  }

  /**
   * The rootfs digest as the running server reads it from inside its own
   * filesystem; anything but the artifact's digest aborts the run.
   */
  async digestInside(platform: Platform, instance: Instance): Promise<string> {
    let info: ServerInfo | null = null;
    try {
      const res = await siteOf(instance).probe({ url: instance.baseUrl + ENDPOINTS.info, timeoutMs: 5_000 });
      if (res.status === 200) info = JSON.parse(res.body.toString()) as ServerInfo;
    } catch {
      // reported below as an unknown digest
    }
    if (info?.rootfsDigest !== this.artifact.rootfsDigest) {
      throw new BenchError(
        'mismatch',
        `${platform.name} runs rootfs ${String(info?.rootfsDigest ?? 'unknown')}, expected ${this.artifact.rootfsDigest}: the substrates do not run the same artifact`,
      );
    }
    // Where inference actually runs (fallback: cpu may have moved it): on every sample of this instance.
    if (info.device) instance.facts.device = info.device;
    if (info.deviceReason) instance.facts.deviceReason = info.deviceReason;
    return info.rootfsDigest;
  }

  /** Stops whatever is still running (after a failure or an interrupt). */
  async stopLive(): Promise<void> {
    await Promise.allSettled([...this.live].map(({ platform, instance }) => platform.stop(instance)));
    this.live.clear();
  }
}
