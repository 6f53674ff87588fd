import http from 'node:http';
import type { Artifact } from '../workload/artifact.js';
import { ENDPOINTS } from '../workload/contract.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts } from './platform.js';

/**
 * A stand-in substrate for unit tests of the runner (order, journaling,
 * cleanup, identity checks): each "instance" is an in-process HTTP server on
 * 127.0.0.1 that speaks just enough of the workload's protocol. Never used to
 * verify a feature of a real substrate.
 */
export interface FakePlatformOptions {
  /** Delay between launch and readiness. */
  readyAfterMs?: number;
  /** Make launch number N (0-based) throw. */
  failLaunchAt?: number;
  /** Added to every output value (to provoke an output mismatch). */
  outputOffset?: number;
  /** Digest the instance reports from "inside" (default: the artifact's). */
  digest?: string;
}

interface FakeInstance extends Instance {
  server: http.Server;
}

export class FakePlatform extends Platform<FakeInstance> {
  readonly kind = 'fake' as const;
  private digest = '';
  private launches = 0;
  /** Every instance id launched, in order. */
  readonly launched: string[] = [];
  /** Instances currently running. */
  readonly running = new Set<string>();

  constructor(name: string, private readonly options: FakePlatformOptions = {}) {
    super(name);
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    this.digest = this.options.digest ?? artifact.rootfsDigest;
    return { fake: true };
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<FakeInstance> {
    if (this.launches++ === this.options.failLaunchAt) throw new Error(`fake launch ${spec.instanceId} failed on purpose`);
    const readyAt = performance.now() + (this.options.readyAfterMs ?? 5);
    const server = http.createServer((req, res) => {
      const ready = performance.now() >= readyAt;
      if (req.url === ENDPOINTS.ready) return void res.writeHead(ready ? 200 : 503).end();
      if (req.url === ENDPOINTS.info) return void res.end(JSON.stringify({ rootfsDigest: this.digest }));
      if (req.url === ENDPOINTS.infer(spec.modelName)) {
        req.resume();
        if (!ready) return void res.writeHead(503).end();
        const data = Array.from({ length: 10 }, (_, i) => Math.sin(i) + (this.options.outputOffset ?? 0) * i);
        return void res.end(JSON.stringify({ outputs: [{ name: 'output', shape: [1, 10], datatype: 'FP32', data }] }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(spec.port, '127.0.0.1', resolve));
    this.mark(lifecycle, 'created');
    this.mark(lifecycle, 'started');
    this.launched.push(spec.instanceId);
    this.running.add(spec.instanceId);
    return { id: spec.instanceId, platformName: this.name, kind: 'fake', baseUrl: `http://127.0.0.1:${spec.port}`, lifecycle, facts: {}, server };
  }

  protected async doStop(instance: FakeInstance): Promise<void> {
    instance.server.closeAllConnections();
    await new Promise((resolve) => instance.server.close(resolve));
    this.running.delete(instance.id);
  }

  async cleanupRun(): Promise<void> {
    // Nothing outlives doStop.
  }
}
