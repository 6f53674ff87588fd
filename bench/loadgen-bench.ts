/**
 * Driver for bench/loadgen-vs-wrk.sh: one closed-loop run of the built-in
 * generator against a local URL, printed as a summary plus one machine-readable
 * line:  RESULT <req/s> <cores> <p50 ms> <p99 ms> <errors+timeouts>
 *
 *   npx tsx bench/loadgen-bench.ts --url http://127.0.0.1:PORT/ [--connections 10] [--duration 10] [--client raw|node-http]
 *
 * --client node-http runs the same loop on node:http with a keep-alive Agent
 * (maxSockets = connections), only to measure what the raw-socket client saves.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { runClosedLoop } from '../src/loadgen/closed-loop.js';
import { renderLoadResult } from '../src/loadgen/render.js';
import { cpuOver, RunRecorder, totalErrors, type LoadResult } from '../src/loadgen/result.js';
import { resolveTarget } from '../src/loadgen/target.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    client: { type: 'string', default: 'raw' },
  },
});
if (values.url === undefined) throw new Error('--url is required');
const connections = Number(values.connections);
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;

/** The same closed loop on node:http, for comparison only (no timeouts, GET only). */
async function nodeHttpLoop(url: string): Promise<LoadResult> {
  const t = resolveTarget({ url });
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const rec = new RunRecorder();
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + durationMs;
  let cpu0: NodeJS.CpuUsage | null = null;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const req = http.request({ host: t.host, port: t.port, path: t.path, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          const now = performance.now();
          if (sentAt >= windowStart && now <= windowEnd) rec.response(res.statusCode ?? 0, now - sentAt);
          resolve();
        });
      });
      req.on('error', (e) => {
        if (sentAt >= windowStart) rec.error((e as NodeJS.ErrnoException).code ?? 'socket');
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= windowEnd) return;
      if (now >= windowStart) {
        cpu0 ??= process.cpuUsage();
        rec.sent += 1;
      }
      await one();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const cpu = process.cpuUsage(cpu0 ?? undefined);
  agent.destroy();
  const wall = performance.now() - windowStart;
  return rec.toResult({ mode: 'closed', connections, durationMs: wall, cpu: cpuOver(cpu, wall), stoppedBy: 'duration' });
}

const r =
  values.client === 'node-http'
    ? await nodeHttpLoop(values.url)
    : await runClosedLoop({ target: { url: values.url }, connections, durationMs, warmupMs, timeoutMs: 5000 });
console.log(renderLoadResult(r));
console.log(
  `RESULT ${r.reqPerSec.toFixed(0)} ${r.loadgenCpu.cores.toFixed(2)} ${r.latencyMs.p50.toFixed(3)} ${r.latencyMs.p99.toFixed(3)} ${totalErrors(r) + r.timeouts}`,
);
