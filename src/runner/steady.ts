import { messageOf } from '../errors.js';
import { totalErrors } from '../loadgen/index.js';
import { enableKsm } from '../measure/ksm.js';
import { measureMemory, memorySampleValues, type MemoryMeasurement } from '../measure/memory.js';
import { measureNetworkRtt, networkSampleValues } from '../measure/network.js';
import { pinForLoad } from '../measure/pinning.js';
import { measureStartup } from '../measure/startup.js';
import { loadLevels, loadSampleValues, maxRateSampleValue, runLoadLevel, searchMaxRate } from '../measure/throughput.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { MemoryConfig, NetworkConfig, ThroughputConfig } from '../scenario/schema.js';
import { waitFailure, type RunSession } from './session.js';

export interface SteadyOptions {
  memory?: MemoryConfig;
  throughput?: ThroughputConfig;
  network?: NetworkConfig;
  /** CPUs the instance was given (to keep the load generator off them when the host has more). */
  instanceCpus: number;
  readyTimeoutMs: number;
  warn: (message: string) => void;
}

type MemoryPhase = 'idle' | 'load' | 'ksm';
type SampleValue = Pick<Sample, 'metric' | 'value' | 'unit' | 'metadata'>;

/**
 * Measurements of one long-lived, ready instance per platform (as opposed to
 * startup and cold start, which each need a fresh one), in this order: the
 * harness's own exec round trip into it; memory after a settle period at idle
 * (and with KSM on when asked); network RTT of a no-inference endpoint; then
 * throughput and latency at each load level — with the load generator and the
 * instance on different CPUs where the host allows, and a memory reading
 * half-way through the first level when memory.under_load is set — and the
 * maximum sustainable rate when an SLO is given. Every sample goes to
 * `record` as soon as it exists.
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
    await new SteadyInstance(session, platform, instance, o, record).measure();
  });
}

class SteadyInstance {
  private readonly canReadMemory: boolean;

  constructor(
    private readonly session: RunSession,
    private readonly platform: Platform,
    private readonly instance: Instance,
    private readonly o: SteadyOptions,
    private readonly record: (sample: Sample, quiet?: boolean) => void,
  ) {
    this.canReadMemory = o.memory !== undefined && platform.memoryReading !== undefined;
  }

  async measure(): Promise<void> {
    const { o } = this;
    await this.execRoundTrips();
    if (o.memory && this.canReadMemory) {
      this.emitMemory(await measureMemory(this.platform, this.instance, { settleMs: o.memory.settle, signal: this.session.signal }), 'idle');
      if (o.memory.ksm) await this.readWithKsm();
    }
    if (o.network) await this.networkRtt(o.network);
    if (o.throughput) {
      const pinning = await pinForLoad(this.platform, this.instance, o.instanceCpus);
      try {
        await this.load(o.throughput, pinning.detail);
      } finally {
        await pinning.restore();
      }
    }
  }

  private emit(v: SampleValue, quiet = false): void {
    const { platform, instance } = this;
    this.record(
      { ...v, platform: platform.name, kind: platform.kind, rep: 0, warmup: false, timestamp: Date.now(), metadata: { ...v.metadata, ...instance.facts } },
      quiet,
    );
  }

  private emitMemory(m: MemoryMeasurement, phase: MemoryPhase): void {
    for (const v of memorySampleValues(m)) {
      this.emit({ ...v, metric: phase === 'idle' ? v.metric : `${v.metric}@${phase}`, metadata: { ...v.metadata, phase } });
    }
  }

  /** The harness's own cost of reading inside the instance (docker exec / SSH), n = 10. */
  private async execRoundTrips(): Promise<void> {
    if (!this.platform.execRoundTripMs) return;
    const rtts = await this.platform.execRoundTripMs(this.instance, 10);
    rtts.forEach((ms, rep) => {
      const { platform } = this;
      this.record({ metric: 'harness_exec_rtt', value: ms, unit: 'ms', platform: platform.name, kind: platform.kind, rep, warmup: false, timestamp: Date.now(), metadata: { command: 'true' } }, true);
    });
  }

  /** The idle reading again with KSM on: two full scans (≤ 60 s), then read; KSM is always put back. */
  private async readWithKsm(): Promise<void> {
    let ksm;
    try {
      ksm = await enableKsm();
    } catch (err) {
      this.o.warn(`${this.platform.name}: memory.ksm: ${messageOf(err)}; only the reading without KSM was taken`);
      return;
    }
    try {
      const scans = await ksm.waitForScans(2, 60_000, this.session.signal);
      if (scans < 2) this.o.warn(`${this.platform.name}: memory.ksm: KSM finished ${scans} full scan(s) in 60 s; the KSM reading may understate merging`);
      this.emitMemory(await measureMemory(this.platform, this.instance, { settleMs: 0, signal: this.session.signal }), 'ksm');
    } finally {
      await ksm.restore();
    }
  }

  private async networkRtt(network: NetworkConfig): Promise<void> {
    const rtt = await measureNetworkRtt(this.instance, network, this.session.signal);
    for (const v of networkSampleValues(rtt)) this.emit(v);
    if (rtt.requests < network.requests) {
      this.o.warn(`${this.platform.name}: network RTT: ${rtt.requests} of ${network.requests} requests answered (${rtt.timeouts} timeouts)`);
    }
  }

  private async load(throughput: ThroughputConfig, pinning: string): Promise<void> {
    const { session, platform, instance, o } = this;
    let bestReqPerSec = 0;
    for (const [i, level] of loadLevels(throughput).entries()) {
      session.throwIfAborted();
      const load = runLoadLevel(instance, session.modelName, session.input, throughput, level, session.signal);
      let underLoad: Promise<MemoryMeasurement> | undefined;
      if (i === 0 && o.memory?.under_load && this.canReadMemory) {
        // Half-way through the measured window of the first level: steady load.
        const settleMs = throughput.warmup + throughput.duration / 2;
        underLoad = measureMemory(platform, instance, { settleMs, signal: session.signal, from: performance.now() });
      }
      const [result, memory] = await Promise.all([load, underLoad]);
      if (memory) this.emitMemory(memory, 'load');
      bestReqPerSec = Math.max(bestReqPerSec, result.reqPerSec);
      for (const v of loadSampleValues(level, result)) this.emit({ ...v, metadata: { ...v.metadata, pinning } });
      const failed = totalErrors(result) + result.timeouts + (result.dropped ?? 0);
      if (result.requests === 0) {
        o.warn(`${platform.name}: throughput ${level.label}: no request succeeded in ${throughput.duration} ms (${result.timeouts} timeouts at ${throughput.timeout} ms, ${totalErrors(result)} errors); no latency recorded`);
      } else if (failed > 0) {
        o.warn(`${platform.name}: throughput ${level.label}: ${failed} of ${failed + result.requests} requests failed or timed out`);
      }
      if (result.loadgenCpu.saturated) {
        o.warn(`${platform.name}: throughput ${level.label}: the load generator used ${result.loadgenCpu.cores.toFixed(2)} cores: it may be the bottleneck`);
      }
    }
    const slo = throughput.slo_p99;
    if (slo !== undefined) {
      session.throwIfAborted();
      const search = await searchMaxRate(instance, session.modelName, session.input, { ...throughput, slo_p99: slo }, bestReqPerSec, session.signal);
      const v = maxRateSampleValue(slo, search);
      this.emit({ ...v, metadata: { ...v.metadata, pinning } });
    }
  }
}
