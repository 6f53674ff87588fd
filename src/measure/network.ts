import { resolveTarget, type LoadResult } from '../loadgen/index.js';
import type { Instance } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { NetworkConfig } from '../scenario/schema.js';
import { siteOf } from './load-site.js';
import { onceIf, type Measurement } from './measurement.js';

/** Longest an RTT measurement may run, whatever the request count. */
const MAX_DURATION_MS = 60_000;

/**
 * Network RTT: `requests` sequential GETs of the server's no-inference path
 * (/v2/health/live for a v2 server) on one keep-alive
 * connection (no inference, so the network path dominates: host networking,
 * docker-proxy on a bridge, QEMU user-net port forwarding) after 20 unrecorded
 * warm-up requests.
 */
export async function measureNetworkRtt(instance: Instance, livePath: string, config: NetworkConfig, signal?: AbortSignal): Promise<LoadResult> {
  const target = resolveTarget({ url: instance.baseUrl + livePath, method: 'GET' });
  const common = { target, connections: 1, timeoutMs: config.timeout, signal };
  await siteOf(instance).closedLoop({ ...common, durationMs: MAX_DURATION_MS, maxRequests: 20 });
  return siteOf(instance).closedLoop({ ...common, durationMs: MAX_DURATION_MS, maxRequests: config.requests });
}

export function networkSampleValues(r: LoadResult): Array<Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>> {
  if (r.requests === 0) return [];
  const metadata: Sample['metadata'] = {
    requests: r.requests,
    timeouts: r.timeouts,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
    p90_ms: r.latencyMs.p90,
    p999_ms: r.latencyMs.p999,
    min_ms: r.latencyMs.min,
    max_ms: r.latencyMs.max,
    histogram: r.histogram,
  };
  return [
    { metric: 'network_rtt_p50', value: r.latencyMs.p50, unit: 'ms', metadata },
    { metric: 'network_rtt_p99', value: r.latencyMs.p99, unit: 'ms', metadata },
  ];
}

/** network: the RTT of a no-inference endpoint on a ready instance. */
export const networkMeasurement: Measurement = {
  name: 'network',
  uses: 'ready',
  rounds: (s) => onceIf(s.measurements.network),
  async run(ctx, s) {
    const cfg = s.measurements.network!;
    const instance = await ctx.readyInstance();
    const rtt = await measureNetworkRtt(instance, ctx.protocol.livePath, cfg, ctx.signal);
    ctx.throwIfAborted(); // an interrupted loop answers 0 requests: that is an unfinished step, not a measured one
    for (const v of networkSampleValues(rtt)) ctx.emit(v, instance);
    if (rtt.requests < cfg.requests) {
      ctx.warn(`${ctx.platform.name}: network RTT: ${rtt.requests} of ${cfg.requests} requests answered (${rtt.timeouts} timeouts)`);
    }
  },
};