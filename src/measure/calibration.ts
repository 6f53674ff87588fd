import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { median, quantile } from 'simple-statistics';
import type { HostCalibration } from '../results/run-record.js';
import { probe } from '../loadgen/probe.js';
import { onceIf, type Measurement } from './measurement.js';

/**
 * What the harness's own measuring costs, so each reported time has a known
 * resolution: one readiness poll (new TCP connection + HTTP round trip on
 * loopback against a trivial in-process server), and how late a poll-interval
 * timer actually fires. Substrate round trips (docker exec, SSH) are measured
 * per platform by the calibration measurement below.
 */
function spread(xs: number[]): { median: number; p99: number; n: number } {
  return { median: median(xs), p99: quantile(xs, 0.99), n: xs.length };
}

export async function calibrateHost(pollIntervalMs: number, n = 50): Promise<HostCalibration> {
  const server = http.createServer((_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/health/ready`;
  const rtt: number[] = [];
  const late: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await probe({ url, timeoutMs: 1000 });
      rtt.push(performance.now() - t0);
      const t1 = performance.now();
      await new Promise((r) => setTimeout(r, pollIntervalMs));
      late.push(performance.now() - t1 - pollIntervalMs);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  const pollRoundTripMs = spread(rtt);
  const timerLatenessMs = spread(late);
  return {
    pollIntervalMs,
    pollRoundTripMs,
    timerLatenessMs,
    resolutionMs: pollIntervalMs + timerLatenessMs.median + pollRoundTripMs.median,
  };
}

/**
 * calibration: the harness's own cost of reading inside an instance (docker
 * exec / SSH `true`), n = 10, on a ready instance; taken whenever the run
 * reads inside instances (memory, network or throughput is measured).
 */
export const execRoundTripMeasurement: Measurement = {
  name: 'calibration',
  uses: 'ready',
  rounds: (s) => onceIf(s.measurements.memory ?? s.measurements.network ?? s.measurements.throughput),
  unsupported: (platform) => (platform.execRoundTripMs ? null : `${platform.kind} cannot run commands inside an instance`),
  async run(ctx) {
    const instance = await ctx.readyInstance();
    const rtts = await ctx.platform.execRoundTripMs!(instance, 10);
    rtts.forEach((ms, rep) => ctx.emit({ metric: 'harness_exec_rtt', value: ms, unit: 'ms', rep, quiet: true, metadata: { command: 'true' } }));
  },
};