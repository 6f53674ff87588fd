import { BenchError, messageOf } from '../errors.js';
import { siteOf } from '../measure/load-site.js';
import { freePort } from '../platforms/host/ports.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Snapshot, SnapshotVariant } from '../platforms/snapshot.js';
import type { Artifact } from '../workload/artifact.js';
import { ENDPOINTS, GUEST_DIGEST_FILE, type ServerInfo } from '../workload/contract.js';
import type { ServerProtocol } from '../workload/server-protocol.js';
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
    /** How the run talks to its server (readiness, the no-inference path, the one inference request). */
    readonly protocol: ServerProtocol,
    readonly threads: number,
    readonly pollIntervalMs: number,
    readonly signal: AbortSignal,
    private readonly onEvent: RunListener,
  ) {}

  throwIfAborted(): void {
    if (this.signal.aborted) throw new BenchError('interrupted', 'run interrupted');
  }

  private async spec(instanceId: string) {
    return { runId: this.runId, instanceId, port: await freePort(), threads: this.threads, modelName: this.protocol.modelName ?? 'model' };
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
   * The rootfs digest read from inside the instance's own filesystem — by
   * the built-in server (/vmbench/info), or for an image workload, whose
   * server knows nothing of vmbench, the way the harness reaches inside
   * (docker exec; SSH into a VM); anything but the artifact's digest aborts
   * the run.
   */
  async digestInside(platform: Platform, instance: Instance): Promise<string> {
    let digest: string | null = null;
    let info: ServerInfo | null = null;
    try {
      if (this.artifact.image) {
        if (!platform.readFileInside) throw new BenchError('unsupported', `${platform.name}: ${platform.kind} cannot read files inside an instance`);
        digest = (await platform.readFileInside(instance, GUEST_DIGEST_FILE)).trim();
      } else {
        const res = await siteOf(instance).probe({ url: instance.baseUrl + ENDPOINTS.info, timeoutMs: 5_000 });
        if (res.status === 200) {
          info = JSON.parse(res.body.toString()) as ServerInfo;
          digest = info.rootfsDigest;
        }
      }
    } catch (err) {
      if (err instanceof BenchError && err.kind === 'unsupported') throw err;
      // reported below as an unknown digest
    }
    if (digest !== this.artifact.rootfsDigest) {
      throw new BenchError(
        'mismatch',
        `${platform.name} runs rootfs ${String(digest ?? 'unknown')}, expected ${this.artifact.rootfsDigest}: the substrates do not run the same artifact`,
      );
    }
    // Where inference actually runs (fallback: cpu may have moved it): on every sample of this instance.
    if (info?.device) instance.facts.device = info.device;
    if (info?.deviceReason) instance.facts.deviceReason = info.deviceReason;
    return digest;
  }

  /** Stops whatever is still running (after a failure or an interrupt). */
  async stopLive(): Promise<void> {
    await Promise.allSettled([...this.live].map(({ platform, instance }) => platform.stop(instance)));
    this.live.clear();
  }
}
