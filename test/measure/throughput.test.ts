import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/loadgen/index.js';
import type { LoadResult } from '../../src/loadgen/index.js';
import { loadLevels, loadSampleValues } from '../../src/measure/throughput.js';
import { metricLabel } from '../../src/results/sample.js';

function result(requests: number, latencies: number[], extra: Partial<LoadResult> = {}): LoadResult {
  const h = new LatencyHistogram();
  for (const l of latencies) h.recordMs(l);
  return {
    mode: 'closed', connections: 2, durationMs: 10_000, requests, errors: {}, timeouts: 0, reqPerSec: requests / 10,
    latencyMs: h.summaryMs(), histogram: h.encode(), loadgenCpu: { userMs: 100, systemMs: 50, cores: 0.015, saturated: false },
    sent: requests, stoppedBy: 'duration', ...extra,
  };
}

describe('throughput samples', () => {
  it('one level per connection count (closed) or rate (open)', () => {
    const base = { duration: 1000, warmup: 0, timeout: 5000 };
    expect(loadLevels({ ...base, mode: 'closed', connections: [1, 4] })).toEqual([
      { params: { connections: 1 }, connections: 1 },
      { params: { connections: 4 }, connections: 4 },
    ]);
    expect(loadLevels({ ...base, mode: 'open', connections: [1], rates: [10, 50] }).map((l) => l.params)).toEqual([{ rate: 10 }, { rate: 50 }]);
  });

  it('req/s plus p50/p99 latency with the run details in metadata', () => {
    const values = loadSampleValues({ params: { connections: 2 }, connections: 2 }, result(100, [10, 10, 10, 12, 40]));
    expect(values.map((v) => v.metric)).toEqual(['throughput', 'latency_p50', 'latency_p99']);
    expect(values.map((v) => metricLabel(v.metric, v.params))).toEqual(['throughput@c=2', 'latency_p50@c=2', 'latency_p99@c=2']);
    expect(values[0]).toMatchObject({ value: 10, unit: 'req/s' });
    expect(values[1]!.value).toBeCloseTo(10, 1);
    expect(values[2]!.value).toBeCloseTo(40, 0);
    expect(values[0]!.metadata).toMatchObject({ requests: 100, connections: 2, loadgen_saturated: false });
  });

  it('records no latency when nothing succeeded, instead of a latency of 0', () => {
    const values = loadSampleValues({ params: { connections: 1 }, connections: 1 }, result(0, [], { timeouts: 4 }));
    expect(values.map((v) => metricLabel(v.metric, v.params))).toEqual(['throughput@c=1']);
    expect(values[0]).toMatchObject({ value: 0, metadata: { timeouts: 4 } });
  });
});
