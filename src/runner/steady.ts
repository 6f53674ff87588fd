import { measureMemory, memorySampleValues } from '../measure/memory.js';
import { measureStartup } from '../measure/startup.js';
import type { Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { MemoryConfig } from '../scenario/schema.js';
import { waitFailure, type RunSession } from './session.js';

export interface SteadyOptions {
  memory?: MemoryConfig;
  readyTimeoutMs: number;
}

/**
 * Measurements of one long-lived, ready instance per platform (as opposed to
 * startup and cold start, which each need a fresh one): memory after a settle
 * period at idle. Every sample goes to `record` as soon as it exists.
 */
export async function runSteadyPhase(
  session: RunSession,
  platform: Platform,
  o: SteadyOptions,
  record: (sample: Sample) => void,
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
    if (o.memory && platform.memoryReading) {
      const m = await measureMemory(platform, instance, { settleMs: o.memory.settle, signal: session.signal });
      for (const v of memorySampleValues(m)) {
        record({
          ...v,
          platform: platform.name,
          kind: platform.kind,
          rep: 0,
          warmup: false,
          timestamp: Date.now(),
          metadata: { ...v.metadata, phase: 'idle', settle_ms: o.memory.settle, ...instance.facts },
        });
      }
    }
  });
}
