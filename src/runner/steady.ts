import { totalErrors } from '../loadgen/index.js';
import { measureMemory, memorySampleValues, type MemoryMeasurement } from '../measure/memory.js';
import { measureNetworkRtt, networkSampleValues } from '../measure/network.js';
import { loadLevels, loadSampleValues, maxRateSampleValue, runLoadLevel, searchMaxRate } from '../measure/throughput.js';
import { measureStartup } from '../measure/startup.js';
import { messageOf } from '../errors.js';
import { enableKsm } from '../measure/ksm.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { MemoryConfig, NetworkConfig, ThroughputConfig } from '../scenario/schema.js';
import { waitFailure, type RunSession } from './session.js';

export interface SteadyOptions {
  memory?: MemoryConfig;
  throughput?: ThroughputConfig;
  network?: NetworkConfig;
  readyTimeoutMs: number;
  warn: (message: string) => void;
}

/**
 * Measurements of one long-lived, ready instance per platform (as opposed to
 * startup and cold start, which each need a fresh one): memory after a settle
 * period at idle, network RTT of a no-inference endpoint, then throughput and latency at each load level, with a
 * second memory reading half-way through the first level when
 * memory.under_load is set. Every sample goes to `record` as soon as it exists.
 */
export async function runSteadyPhase(
  session: RunSession,
  platform: Platform,
  o: SteadyOptions,
  record: (sample: Sample, quiet?: boolean) => void,
): Promise<void> {
  await session.withInstance(platform, `${platform.name}-steady`, async (instance) => {
    await measureStartup(instance, {
      intervalMs: session.pollIntervalMs,
      requestTimeoutMs: 200,
      timeoutMs: o.readyTimeoutMs,
      signal: session.signal,
    }).catch((cause: unknown) => {
      throw waitFailure(session, `${platform.name}: steady phase: not ready within ${o.readyTimeoutMs} ms`, cause);
    });
    await session.digestInside(platform, instance);
    const emit = (v: { metric: string; value: number; unit: Sample['unit']; metadata: Sample['metadata'] }) =>
      record({ ...v, platform: platform.name, kind: platform.kind, rep: 0, warmup: false, timestamp: Date.now(), metadata: { ...v.metadata, ...instance.facts } });
    const emitMemory = (m: MemoryMeasurement, phase: MemoryPhase) => {
      for (const v of memorySampleValues(m)) {
        emit({ ...v, metric: phase === 'idle' ? v.metric : `${v.metric}@${phase}`, metadata: { ...v.metadata, phase } });
      }
    };
    if (platform.execRoundTripMs) {
      // The harness's own cost of reading inside the instance (docker exec / SSH).
      const rtts = await platform.execRoundTripMs(instance, 10);
      rtts.forEach((ms, rep) =>
        record({ metric: 'harness_exec_rtt', value: ms, unit: 'ms', platform: platform.name, kind: platform.kind, rep, warmup: false, timestamp: Date.now(), metadata: { command: 'true' } }, true),
      );
    }
    const canReadMemory = o.memory !== undefined && platform.memoryReading !== undefined;
    if (o.memory && canReadMemory) {
      emitMemory(await measureMemory(platform, instance, { settleMs: o.memory.settle, signal: session.signal }), 'idle');
      if (o.memory.ksm) await readWithKsm(platform, instance, o.memory, session, emitMemory, o.warn);
    }
    if (o.network) {
      const rtt = await measureNetworkRtt(instance, o.network, session.signal);
      for (const v of networkSampleValues(rtt)) emit(v);
      if (rtt.requests < o.network.requests) {
        o.warn(`${platform.name}: network RTT: ${rtt.requests} of ${o.network.requests} requests answered (${rtt.timeouts} timeouts)`);
      }
    }
    if (!o.throughput) return;
    let bestReqPerSec = 0;
    for (const [i, level] of loadLevels(o.throughput).entries()) {
      session.throwIfAborted();
      const load = runLoadLevel(instance, session.modelName, session.input, o.throughput, level, session.signal);
      let underLoad: Promise<MemoryMeasurement> | undefined;
      if (i === 0 && o.memory?.under_load && canReadMemory) {
        // Half-way through the measured window of the first level: steady load.
        const settleMs = o.throughput.warmup + o.throughput.duration / 2;
        underLoad = measureMemory(platform, instance, { settleMs, signal: session.signal, from: performance.now() });
      }
      const [result, memory] = await Promise.all([load, underLoad]);
      if (memory) emitMemory(memory, 'load');
      bestReqPerSec = Math.max(bestReqPerSec, result.reqPerSec);
      for (const v of loadSampleValues(level, result)) emit(v);
      const failed = totalErrors(result) + result.timeouts + (result.dropped ?? 0);
      if (result.requests === 0) {
        o.warn(`${platform.name}: throughput ${level.label}: no request succeeded in ${o.throughput.duration} ms (${result.timeouts} timeouts at ${o.throughput.timeout} ms, ${totalErrors(result)} errors); no latency recorded`);
      } else if (failed > 0) {
        o.warn(`${platform.name}: throughput ${level.label}: ${failed} of ${failed + result.requests} requests failed or timed out`);
      }
      if (result.loadgenCpu.saturated) {
        o.warn(`${platform.name}: throughput ${level.label}: the load generator used ${result.loadgenCpu.cores.toFixed(2)} cores: it may be the bottleneck`);
      }
    }
    const slo = o.throughput.slo_p99;
    if (slo !== undefined) {
      session.throwIfAborted();
      const search = await searchMaxRate(instance, session.modelName, session.input, { ...o.throughput, slo_p99: slo }, bestReqPerSec, session.signal);
      emit(maxRateSampleValue(slo, search));
    }
  });
}

type MemoryPhase = 'idle' | 'load' | 'ksm';

/**
 * The same idle reading with KSM on: switch it on, let it finish two full
 * scans (≤ 60 s), read again (memory_*@ksm), and always put KSM back.
 */
async function readWithKsm(
  platform: Platform,
  instance: Instance,
  memory: MemoryConfig,
  session: RunSession,
  emitMemory: (m: MemoryMeasurement, phase: MemoryPhase) => void,
  warn: (message: string) => void,
): Promise<void> {
  let ksm;
  try {
    ksm = await enableKsm();
  } catch (err) {
    warn(`${platform.name}: memory.ksm: ${messageOf(err)}; only the reading without KSM was taken`);
    return;
  }
  try {
    const scans = await ksm.waitForScans(2, 60_000, session.signal);
    if (scans < 2) warn(`${platform.name}: memory.ksm: KSM finished ${scans} full scan(s) in 60 s; the KSM reading may understate merging`);
    emitMemory(await measureMemory(platform, instance, { settleMs: 0, signal: session.signal }), 'ksm');
  } finally {
    await ksm.restore();
  }
}
