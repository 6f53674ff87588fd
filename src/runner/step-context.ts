import type { SampleValue, SharedInstance, StepContext } from '../measure/measurement.js';
import { measureColdStart, measureStartup, waitFailure, whileAlive } from '../measure/startup.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Sample } from '../results/sample.js';
import type { Artifact } from '../workload/artifact.js';
import type { IdentityCollector } from './identity.js';
import type { PlanStep } from './plan.js';
import type { RunSession } from './session.js';

/**
 * The instances of one group of steps: a step that launches, and the steps
 * that ride on it (plan.ts). The first instance the launching step starts is
 * shared; every instance of the group is stopped when its last step is done.
 */
export class InstanceGroup {
  shared: SharedInstance | undefined;
  readonly instances = new Set<Instance>();

  constructor(readonly platform: Platform) {}

  async close(session: RunSession): Promise<void> {
    const all = [...this.instances].filter((i) => session.isLive(i));
    this.instances.clear();
    this.shared = undefined;
    await Promise.all(all.map((i) => session.stop(this.platform, i)));
  }
}

/** What a run hands every step (run.ts). */
export interface RunServices {
  session: RunSession;
  artifact: Artifact;
  identity: IdentityCollector;
  /** Platforms whose planned identity step failed: the proof is taken on their next checked instance instead. */
  identityDue: Set<string>;
  readyTimeoutMs: number;
  /** The run segment in progress (0 unless resumed). */
  segment: number;
  record: (sample: Sample, quiet: boolean) => void;
  warn: (message: string) => void;
  info: (message: string) => void;
}

/** Longest metadata text kept on a sample (an encoded latency histogram is < 1 KiB): a runaway message must not bloat the journal. */
export const MAX_METADATA_TEXT = 16 * 1024;

function bounded(metadata: Sample['metadata']): Sample['metadata'] {
  const out: Sample['metadata'] = {};
  for (const [k, v] of Object.entries(metadata)) {
    out[k] = typeof v === 'string' && v.length > MAX_METADATA_TEXT ? `${v.slice(0, MAX_METADATA_TEXT)}… (${v.length - MAX_METADATA_TEXT} characters cut)` : v;
  }
  return out;
}

/** One place where a measured value becomes a Sample: platform, kind, rep, warm-up, time, instance facts. */
export function stampSample(
  value: SampleValue,
  platform: Platform,
  step: Pick<PlanStep, 'rep' | 'warmup'> & { index?: number },
  from?: Instance,
  segment?: number,
): Sample {
  const { rep, quiet: _quiet, params, ...rest } = value;
  return {
    ...rest,
    ...(params ? { params } : {}),
    platform: platform.name,
    kind: platform.kind,
    rep: rep ?? step.rep,
    warmup: step.warmup,
    timestamp: Date.now(),
    ...(step.index === undefined ? {} : { step: step.index }),
    ...(segment === undefined ? {} : { segment }),
    // Where the instance's load and readiness polls came from (the controller, or the helper on its host).
    metadata: bounded(from ? { ...value.metadata, ...from.facts, load_from: from.loadSite?.where ?? 'controller' } : value.metadata),
  };
}

export function stepContext(run: RunServices, step: PlanStep, platform: Platform, group: InstanceGroup): StepContext {
  const { session } = run;
  /** The device the step's instances reported (a sample without an instance of its own gets it too). */
  let device: string | number | boolean | undefined;
  const withDevice = (sample: Sample): Sample => {
    const d = device ?? group.shared?.instance.facts.device;
    return d === undefined || sample.metadata.device !== undefined ? sample : { ...sample, metadata: { ...sample.metadata, device: d } };
  };
  const instanceId = (name?: string) => `${platform.name}-${step.measurement.replace('_', '')}-${step.rep}${name ? `-${name}` : ''}`.toLowerCase();
  const track = (instance: Instance, shareable: boolean): Instance => {
    group.instances.add(instance);
    if (shareable && !group.shared) group.shared = { instance };
    return instance;
  };
  /** The identity proof, on the first instance this step checks (when the plan put it here). */
  const identity = async (instance: Instance, digest: string): Promise<void> => {
    if (run.identity.has(platform.name) || !(step.identity || run.identityDue.has(platform.name))) return;
    let body = group.shared?.instance === instance ? group.shared.firstInference?.body : undefined;
    if (!body) {
      const r = await measureColdStart(instance, session.protocol.infer, {
        intervalMs: session.pollIntervalMs, requestTimeoutMs: 200, timeoutMs: run.readyTimeoutMs, signal: session.signal,
      }).catch((cause: unknown) => {
        throw waitFailure(ctx, `${platform.name}: identity check: no inference answer within ${run.readyTimeoutMs} ms`, cause);
      });
      body = r.poll.response.body;
    }
    run.identity.add(platform.name, digest, body);
  };
  const ctx: StepContext = {
    platform,
    runId: session.runId,
    rep: step.rep,
    warmup: step.warmup,
    artifact: run.artifact,
    protocol: session.protocol,
    threads: session.threads,
    pollIntervalMs: session.pollIntervalMs,
    signal: session.signal,
    readyTimeoutMs: run.readyTimeoutMs,
    instanceCpus: platform.cpus,
    shared: step.rides === undefined ? undefined : group.shared,
    launch: async (name) => track(await session.launch(platform, instanceId(name)), name === undefined),
    restore: async (snapshot, variant, name) => track(await session.restore(platform, snapshot, variant, instanceId(name)), false),
    stop: async (instance) => {
      group.instances.delete(instance);
      if (group.shared?.instance === instance) group.shared = undefined;
      await session.stop(platform, instance);
    },
    readyInstance: async () => {
      if (ctx.shared) return ctx.shared.instance;
      const instance = await ctx.launch();
      await whileAlive(platform, instance, (check) =>
        measureStartup(instance, session.protocol, { intervalMs: session.pollIntervalMs, requestTimeoutMs: 200, timeoutMs: run.readyTimeoutMs, signal: session.signal, check }),
      ).catch((cause: unknown) => {
        throw waitFailure(ctx, `${platform.name}: ${step.measurement}: not ready within ${run.readyTimeoutMs} ms`, cause);
      });
      await ctx.digestInside(instance);
      return instance;
    },
    noteFirstInference: (instance, ms, body) => {
      if (group.shared?.instance === instance) group.shared.firstInference = { ms, body };
    },
    digestInside: async (instance) => {
      const digest = await session.digestInside(platform, instance);
      device ??= instance.facts.device;
      await identity(instance, digest);
      return digest;
    },
    emit: (value, from) => run.record(withDevice(stampSample(value, platform, step, from, run.segment)), value.quiet === true),
    warn: run.warn,
    info: run.info,
    throwIfAborted: () => session.throwIfAborted(),
  };
  return ctx;
}
