/**
 * Reference numbers for the README's performance notes: single-request
 * latency and closed-loop HTTP throughput of the workload server in a Docker
 * container (host network, 2 CPUs, 2 intra-op threads), for ResNet-18 and
 * ResNet-50. Not a test: it prints what it measured, with n and spread.
 *
 *   npx tsx bench/container-inference.ts [--models resnet18,resnet50] [--seconds 10] [--requests 50]
 */
import http from 'node:http';
import Dockerode from 'dockerode';
import { median, quantile } from 'simple-statistics';
import { defaultCacheDir } from '../src/paths.js';
import { measureStartup } from '../src/measure/startup.js';
import { DockerPlatform } from '../src/platforms/docker/docker-platform.js';
import { fixedInput } from '../src/workload/request-input.js';
import { freePort } from '../src/platforms/host/ports.js';
import { buildArtifact } from '../src/workload/build/build.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const models = (args.get('models') ?? 'resnet18,resnet50').split(',');
const seconds = Number(args.get('seconds') ?? 10);
const requests = Number(args.get('requests') ?? 50);

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function infer(base: string, body: Buffer): Promise<{ ms: number; serverMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/v2/models/model/infer`,
      { method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length, accept: 'application/octet-stream' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve({ ms: performance.now() - t0, serverMs: Number(res.headers['x-inference-ms'] ?? NaN) })
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const docker = new Dockerode();
const runId = `bench-${process.pid}`;
const fmt = (x: number) => x.toFixed(1);
console.log(`model     | single request: median [p10–p90] (n)        | server-side inference median | closed loop req/s: 1 conn, 2 conn (${seconds} s each)`);
for (const model of models) {
  const artifact = await buildArtifact({ cacheDir: defaultCacheDir(), model, docker });
  const platform = new DockerPlatform('container', { cpus: 2, memoryBytes: 2 * 2 ** 30, network: 'host' }, docker);
  await platform.prepare(artifact);
  const inst = await platform.launch({ runId, instanceId: model, port: await freePort(), threads: 2, modelName: 'model' });
  try {
    await measureStartup(inst, { intervalMs: 10, requestTimeoutMs: 200, timeoutMs: 120_000 });
    const body = fixedInput(3 * 224 * 224, 1);
    for (let i = 0; i < 5; i++) await infer(inst.baseUrl, body); // warm-up, not counted
    const lat: number[] = [];
    const srv: number[] = [];
    for (let i = 0; i < requests; i++) {
      const r = await infer(inst.baseUrl, body);
      lat.push(r.ms);
      srv.push(r.serverMs);
    }
    const rates: string[] = [];
    for (const conns of [1, 2]) {
      let done = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: conns }, async () => {
          while (performance.now() < end) {
            await infer(inst.baseUrl, body);
            done += 1;
          }
        }),
      );
      rates.push(`${fmt(done / seconds)} (n=${done})`);
    }
    console.log(
      `${model.padEnd(9)} | ${fmt(median(lat))} ms [${fmt(quantile(lat, 0.1))}–${fmt(quantile(lat, 0.9))}] (n=${lat.length})`.padEnd(56) +
        ` | ${fmt(median(srv.filter(Number.isFinite)))} ms`.padEnd(31) +
        ` | ${rates.join(', ')}`,
    );
  } finally {
    await platform.stop(inst);
    await platform.cleanupRun(runId);
  }
}
agent.destroy();
