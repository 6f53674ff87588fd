import { describe, expect, it } from 'vitest';
import { inUserNamespace, isolationMetadata } from '../../src/measure/isolation.js';
import { MIN_REQUESTS, MAX_WINDOW_MS, neighborSampleValues, victimWindowMs, type NeighborPoint } from '../../src/measure/neighbors.js';
import { LatencyHistogram, type LoadResult } from '../../src/loadgen/index.js';
import type { Instance } from '../../src/platforms/platform.js';
import { isolationFromSamples } from '../../src/results/isolation.js';
import { metricLabel, type Sample } from '../../src/results/sample.js';

const instance = (facts: Instance['facts']): Instance => ({
  id: 'i', runId: 'r', platformName: 'p', kind: 'docker', baseUrl: 'http://127.0.0.1:1', lifecycle: { launch: 0, launchEpochMs: 0 }, facts,
});
const inside = (o: Partial<Parameters<typeof isolationMetadata>[0]> = {}) => ({
  kernelRelease: '6.18.44', bootId: 'b-host', capEff: '00000000a80425fb', capabilities: 14, seccomp: 'filter', noNewPrivs: false,
  uid: 0, uidMap: '0 0 4294967295', hostDevices: [], ...o,
});

describe('isolation facts', () => {
  it('a container shares the host kernel instance (same boot id); gVisor and a VM do not', () => {
    const host = { release: '6.18.44', bootId: 'b-host' };
    expect(isolationMetadata(inside(), host, instance({ runtime: 'runc' })).sharedKernel).toBe(true);
    const gvisor = isolationMetadata(inside({ kernelRelease: '4.4.0', bootId: null, seccomp: 'disabled' }), host, instance({ runtime: 'runsc', gvisorPlatform: 'ptrace', gvisorNetwork: 'host passthrough' }));
    expect(gvisor).toMatchObject({ sharedKernel: false, kernelRelease: '4.4.0', hostKernelRelease: '6.18.44', gvisorPlatform: 'ptrace', network: 'host passthrough' });
    // Same kernel version in a VM guest is still another kernel: the boot id tells.
    expect(isolationMetadata(inside({ bootId: 'b-guest' }), host, instance({ runtime: 'qemu-tcg' })).sharedKernel).toBe(false);
  });

  it('user namespaces are told by the uid map', () => {
    expect(inUserNamespace('0 0 4294967295')).toBe(false);
    expect(inUserNamespace('         0          0 4294967295')).toBe(false);
    expect(inUserNamespace('0 100000 65536')).toBe(true);
  });

  it('run.json gets one table row per platform from the isolation samples', () => {
    const sample = (platform: string, md: Sample['metadata'], value: number): Sample => ({
      metric: 'isolation_capabilities', value, unit: 'count', platform, kind: 'docker', rep: 0, warmup: false, timestamp: 0, metadata: md,
    });
    const host = { release: '6.18.44', bootId: 'b' };
    const t = isolationFromSamples([
      sample('runc', isolationMetadata(inside({ bootId: 'b', hostDevices: ['/dev/kvm', '/dev/fuse'] }), host, instance({ runtime: 'runc' })), 14),
      sample('gvisor', isolationMetadata(inside({ bootId: null, kernelRelease: '4.4.0' }), host, instance({ runtime: 'runsc', gvisorPlatform: 'ptrace' })), 14),
    ])!;
    expect(Object.keys(t)).toEqual(['runc', 'gvisor']);
    expect(t.runc).toMatchObject({ sharedKernel: true, capabilities: 14, hostDevices: ['/dev/kvm', '/dev/fuse'], runtime: 'runc', seccomp: 'filter' });
    expect(t.gvisor).toMatchObject({ sharedKernel: false, kernelRelease: '4.4.0', gvisorPlatform: 'ptrace' });
    expect(isolationFromSamples([])).toBeUndefined();
  });
});

function load(requests: number, latencies: number[], durationMs = 10_000): LoadResult {
  const h = new LatencyHistogram();
  for (const l of latencies) h.recordMs(l);
  return {
    mode: 'open', rate: 1, durationMs, requests, errors: {}, timeouts: 0, reqPerSec: requests / (durationMs / 1000),
    latencyMs: h.summaryMs(), histogram: h.encode(), loadgenCpu: { userMs: 1, systemMs: 1, cores: 0.01, saturated: false }, sent: requests, stoppedBy: 'duration',
  };
}

describe('noisy neighbours', () => {
  it('the victim window holds enough requests at its rate, within a bound', () => {
    expect(victimWindowMs(15_000, 10)).toBe(15_000);
    expect(victimWindowMs(15_000, 0.02)).toBe(Math.min(MAX_WINDOW_MS, (MIN_REQUESTS / 0.02) * 1000));
    expect(victimWindowMs(15_000, 0.0001)).toBe(MAX_WINDOW_MS);
  });

  it('samples per K with the inflation against the victim alone; no latency when nothing answered', () => {
    const alone: NeighborPoint = { neighbors: 0, victim: load(50, Array(50).fill(10)), neighborReqPerSec: 0, neighborErrors: 0 };
    const busy: NeighborPoint = { neighbors: 2, victim: load(40, [...Array(39).fill(20), 80]), neighborReqPerSec: 90, neighborErrors: 1 };
    const v = neighborSampleValues(busy, 5, 0.5, alone);
    expect(v.map((x) => metricLabel(x.metric, x.params))).toEqual(['neighbor_throughput@k=2', 'neighbor_p50@k=2', 'neighbor_p99@k=2']);
    expect(v[1]!.metadata.p50_inflation).toBeCloseTo(2, 1);
    expect(Number(v[2]!.metadata.p99_inflation)).toBeGreaterThan(4);
    expect(v[0]!.metadata).toMatchObject({ rate: 5, load_fraction: 0.5, neighbor_req_per_sec: 90, neighbor_errors: 1 });
    const none = neighborSampleValues({ ...busy, victim: load(0, []) }, 5, 0.5, alone);
    expect(none.map((x) => x.metric)).toEqual(['neighbor_throughput']);
  });
});
