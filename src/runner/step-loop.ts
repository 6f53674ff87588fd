import { BenchError, failureCategoryOf, messageOf, type FailureCategory } from '../errors.js';
import { measurementNamed } from '../measure/registry.js';
import type { Instance, Platform } from '../platforms/platform.js';
import type { Scenario } from '../scenario/schema.js';
import type { RunListener } from './events.js';
import type { PlanStep } from './plan.js';
import { InstanceGroup, stepContext, type RunServices } from './step-context.js';

/**
 * After a failure of these the run stops (what it measured so far is kept):
 * a mismatch makes every comparison meaningless; with a full disk nothing
 * more can be recorded. Any other failure costs its step only.
 */
const STOPS_THE_RUN: ReadonlySet<FailureCategory> = new Set(['mismatch', 'disk_full', 'interrupted']);

/** Categories a post-mortem of the instance may sharpen: "not ready in time" is often "it died". */
const REFINABLE: ReadonlySet<FailureCategory> = new Set(['boot_timeout', 'infrastructure', 'internal']);

export interface StepOutcome {
  step: PlanStep;
  /** Measured window of the step (its first action to its last sample), ms. */
  windowMs: number;
  /** Null when the step succeeded. */
  failure: { category: FailureCategory; message: string } | null;
}

export interface StepLoopContext {
  platforms: readonly Platform[];
  scenario: Scenario;
  signal: AbortSignal;
  onEvent: RunListener;
  /** Total steps of the plan (the progress line counts against it, also when resuming). */
  total: number;
}

/**
 * The plan, step by step: each step's measurement on its platform; a group's
 * instances are stopped after the group's last step. A step that fails is
 * reported through done() with its category and the run goes on (its group's
 * instances are stopped, so the steps that would have ridden on them launch
 * their own) — unless the category stops the run. A step whose instance
 * died while it measured fails too (a load window against a killed container
 * "succeeds" with nothing but errors).
 */
export async function runSteps(
  steps: readonly PlanStep[],
  run: RunServices,
  ctx: StepLoopContext,
  done: (outcome: StepOutcome) => void,
): Promise<void> {
  const byName = new Map(ctx.platforms.map((p) => [p.name, p]));
  const hostOf = (step: PlanStep) => step.rides ?? step.index;
  const lastUse = new Map<number, number>();
  for (const step of steps) lastUse.set(hostOf(step), step.index);
  const groups = new Map<number, InstanceGroup>();
  for (const step of steps) {
    run.session.throwIfAborted();
    const platform = byName.get(step.platform)!;
    const host = hostOf(step);
    let group = groups.get(host);
    if (!group) groups.set(host, (group = new InstanceGroup(platform)));
    ctx.onEvent({ type: 'step', index: step.index, total: ctx.total, metric: step.measurement, platform: step.platform, rep: step.rep, warmup: step.warmup });
    const w0 = performance.now();
    let failure: StepOutcome['failure'] = null;
    let stop: unknown = null;
    try {
      await measurementNamed(step.measurement).run(stepContext(run, step, platform, group), ctx.scenario);
      const died = await firstPostMortem(platform, group.instances);
      if (died) failure = { category: died.category, message: `${platform.name}: ${step.measurement} rep ${step.rep}: ${died.detail}` };
    } catch (err) {
      if (ctx.signal.aborted) stop = err;
      else {
        failure = await categorise(err, platform, group.instances, w0);
        if (STOPS_THE_RUN.has(failure.category)) stop = err instanceof BenchError ? err : new BenchError('infrastructure', failure.message, { cause: err, category: failure.category });
      }
    }
    const windowMs = performance.now() - w0;
    if (failure || lastUse.get(host) === step.index) {
      groups.delete(host);
      await group.close(run.session);
    }
    // Interrupted mid-step: neither failed nor completed — a resume runs it again.
    if (stop && ctx.signal.aborted) throw stop;
    if (failure && step.identity) run.identityDue.add(step.platform);
    if (failure) run.warn(`step ${step.index + 1} failed (${failure.category}): ${failure.message}`);
    done({ step, windowMs, failure });
    if (stop) throw stop;
  }
}

/**
 * The category of a step's error from the error alone — except that when the
 * connection to the platform's host was lost while the step ran, it is
 * host_unreachable (an engine call then fails with whatever its transport
 * says), unless the error stops the run anyway.
 */
export function stepCategory(err: unknown, platform: Pick<Platform, 'hostLostSince'>, sinceMono: number): FailureCategory {
  const category = failureCategoryOf(err);
  return !STOPS_THE_RUN.has(category) && platform.hostLostSince(sinceMono) ? 'host_unreachable' : category;
}

/** The category of a step's error, sharpened by what became of its instances. */
async function categorise(err: unknown, platform: Platform, instances: ReadonlySet<Instance>, sinceMono: number): Promise<NonNullable<StepOutcome['failure']>> {
  const message = messageOf(err);
  const category = stepCategory(err, platform, sinceMono);
  if (!REFINABLE.has(category)) return { category, message };
  const died = (await firstPostMortem(platform, instances)) ?? (await platform.health?.().catch(() => null)) ?? null;
  return died ? { category: died.category, message: `${message} — ${died.detail}` } : { category, message };
}

async function firstPostMortem(platform: Platform, instances: ReadonlySet<Instance>) {
  if (!platform.postMortem) return null;
  for (const instance of instances) {
    const pm = await platform.postMortem(instance).catch(() => null);
    if (pm) return pm;
  }
  return null;
}
