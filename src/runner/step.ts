import { phaseSampleValues } from '../measure/phases.js';
import { measureColdStart, measureStartup } from '../measure/startup.js';
import type { Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { PlanStep } from './plan.js';
import { waitFailure, type RunSession } from './session.js';

/**
 * One launch → measure → stop cycle on a fresh instance, producing the
 * metric's sample and, for startup, the phase breakdown of that same launch
 * (phase_<name>: ms after the launch call; phases a substrate lacks are absent).
 */
export async function runStep(session: RunSession, platform: Platform, step: PlanStep, timeoutMs: number): Promise<Sample[]> {
  const instanceId = `${step.platform}-${step.metric.replace('_', '')}-${step.rep}`.toLowerCase();
  const timestamp = Date.now();
  return session.withInstance(platform, instanceId, async (instance) => {
    const options = { intervalMs: session.pollIntervalMs, requestTimeoutMs: 200, timeoutMs, signal: session.signal };
    let measured: { ms: number; poll: { attempts: number } };
    try {
      measured =
        step.metric === 'startup'
          ? await measureStartup(instance, options)
          : await measureColdStart(instance, session.modelName, session.input, options);
    } catch (cause) {
      const what = step.metric === 'startup' ? 'readiness' : 'inference answer';
      throw waitFailure(session, `${platform.name}: ${step.metric} rep ${step.rep}: no ${what} within ${timeoutMs} ms`, cause);
    }
    const digest = await session.digestInside(platform, instance);
    const lc = instance.lifecycle;
    const phases: Sample[] = [];
    if (step.metric === 'startup' && platform.startupPhases) {
      for (const v of phaseSampleValues(await platform.startupPhases(instance))) {
        phases.push({ ...v, platform: platform.name, kind: platform.kind, rep: step.rep, warmup: step.warmup, timestamp });
      }
    }
    const main: Sample = {
      metric: step.metric,
      value: measured.ms,
      unit: 'ms',
      platform: platform.name,
      kind: platform.kind,
      rep: step.rep,
      warmup: step.warmup,
      timestamp,
      metadata: {
        created_ms: lc.created === undefined ? null : lc.created - lc.launch,
        started_ms: lc.started === undefined ? null : lc.started - lc.launch,
        poll_attempts: measured.poll.attempts,
        poll_interval_ms: session.pollIntervalMs,
        rootfs_digest_inside: digest,
        ...instance.facts,
      },
    };
    return [main, ...phases];
  });
}
