import { BenchError } from '../errors.js';
import http from 'node:http';
import type { Artifact } from '../workload/artifact.js';
import { ENDPOINTS } from '../workload/contract.js';
import type { MemoryReading } from './memory-reading.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts, type PostMortem } from './platform.js';

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
  /** Launch number N (0-based) starts, then dies before it is ready (its server closes): postMortem() says instance_died. */
  dieAtLaunch?: number;
  /** Added to every output value (to provoke an output mismatch). */
  outputOffset?: number;
  /** Digest the instance reports from "inside" (default: the artifact's). */
  digest?: string;
  /**
   * When set, the platform has a memoryReading() that reports this many
   * host-attributable bytes per instance (workload PSS/RSS: half of it).
   */
  memoryPerInstanceBytes?: number;
  /** Each inference answer is delayed by this many ms × the number of instances running. */
  latencyPerRunningInstanceMs?: number;
}

interface FakeInstance extends Instance {
  server: http.Server;
}

export class FakePlatform extends Platform<FakeInstance> {
  readonly kind = 'fake' as const;
  readonly cpus = 1;
  private digest = '';
  private launches = 0;
  /** Every instance id launched, in order. */
  readonly launched: string[] = [];
  /** Instances currently running. */
  readonly running = new Set<string>();
  /** Instances that died (dieAtLaunch). */
  private readonly died = new Set<string>();

  constructor(name: string, private readonly options: FakePlatformOptions = {}) {
    super(name);
    const perInstance = options.memoryPerInstanceBytes;
    if (perInstance !== undefined) this.memoryReading = async (instance) => fakeMemoryReading(instance, perInstance);
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    this.digest = this.options.digest ?? artifact.rootfsDigest;
    return { fake: true };
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<FakeInstance> {
    const n = this.launches;
    if (this.launches++ === this.options.failLaunchAt) throw new BenchError('infrastructure', `fake launch ${spec.instanceId} failed on purpose`);
    const readyAt = performance.now() + (this.options.readyAfterMs ?? 5);
    const json = (res: http.ServerResponse, status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    const server = http.createServer((req, res) => {
      const ready = performance.now() >= readyAt;
      // Just enough of the Open Inference Protocol for the run's server check.
      if (req.url === ENDPOINTS.live) return void res.writeHead(200).end();
      if (req.url === ENDPOINTS.ready || req.url === `${ENDPOINTS.model(spec.modelName)}/ready`) return void res.writeHead(ready ? 200 : 503).end();
      if (req.url === '/v2') return void json(res, 200, { name: 'fake', version: '1', extensions: [] });
      if (req.url === ENDPOINTS.model(spec.modelName)) {
        return void json(res, 200, { name: spec.modelName, platform: 'fake', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 10] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }] });
      }
      if (req.url === ENDPOINTS.info) return void res.end(JSON.stringify({ rootfsDigest: this.digest }));
      if (req.url === ENDPOINTS.infer(spec.modelName)) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (!ready) return void res.writeHead(503).end();
          if (String(req.headers['content-type']).startsWith('application/json')) {
            try {
              JSON.parse(Buffer.concat(chunks).toString());
            } catch {
              return void json(res, 400, { error: 'not JSON' });
            }
          }
          const data = Array.from({ length: 10 }, (_, i) => Math.sin(i) + (this.options.outputOffset ?? 0) * i);
          const body = JSON.stringify({ model_name: spec.modelName, outputs: [{ name: 'output', shape: [1, 10], datatype: 'FP32', data }] });
          const delayMs = (this.options.latencyPerRunningInstanceMs ?? 0) * this.running.size;
          if (delayMs <= 0) return void res.end(body);
          setTimeout(() => {
            if (!res.destroyed) res.end(body);
          }, delayMs);
        });
        return;
      }
      if (req.url?.startsWith('/v2/models/')) return void json(res, 404, { error: 'unknown model' });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(spec.port, '127.0.0.1', resolve));
    this.mark(lifecycle, 'created');
    this.mark(lifecycle, 'started');
    this.launched.push(spec.instanceId);
    this.running.add(spec.instanceId);
    if (n === this.options.dieAtLaunch) {
      server.closeAllConnections();
      server.close();
      this.died.add(spec.instanceId);
    }
    return { id: spec.instanceId, runId: spec.runId, platformName: this.name, kind: 'fake', baseUrl: `http://127.0.0.1:${spec.port}`, lifecycle, facts: {}, server };
  }

  override async postMortem(instance: FakeInstance): Promise<PostMortem | null> {
    return this.died.has(instance.id) ? { category: 'instance_died', detail: `fake instance ${instance.id} died on purpose` } : null;
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

function fakeMemoryReading(instance: Instance, bytes: number): MemoryReading {
  const workload = {
    pid: 1, command: 'fake', rssBytes: bytes / 2, pssBytes: bytes / 2,
    pssAnonBytes: null, pssFileBytes: null, pssShmemBytes: null, swapPssBytes: 0, anonHugePagesBytes: 0,
  };
  return {
    kind: 'fake',
    method: `fake: ${bytes} bytes per instance (${instance.id})`,
    takenAtEpochMs: Date.now(),
    host: { attributableBytes: bytes, counted: { fake: bytes }, pageCacheBytes: null, info: {}, processes: [] },
    workload: { ...workload, seenFrom: 'host' },
    notes: [],
  };
}
