import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { asBenchError, BenchError, messageOf } from '../errors.js';
import { calibrateHost } from '../measure/calibration.js';
import { MEASUREMENTS, measurementNamed } from '../measure/registry.js';
import type { Platform } from '../platforms/platform.js';
import { hostEnvironment, type Environment } from '../results/environment.js';
import { auditScenario } from '../results/fairness-inputs.js';
import { isolationFromSamples } from '../results/isolation.js';
import { Journal } from '../results/journal.js';
import { RUN_SCHEMA_VERSION, type RunRecord } from '../results/run-record.js';
import { sampleLabel, type Sample } from '../results/sample.js';
import { aggregateSamples } from '../results/summarize.js';
import type { Scenario } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import type { RunListener } from './events.js';
import { IdentityCollector } from './identity.js';
import { buildPlan, type PlannedMeasurement, type PlanStep } from './plan.js';
import { checkRunServer } from './server-check.js';
import { RunSession } from './session.js';
import { InstanceGroup, stepContext, type RunServices } from './step-context.js';

/** Everything a run needs, passed explicitly (no module-level state). */
export interface RunContext {
  scenario: Scenario;
  scenarioFile: string;
  resultsRoot: string;
  projectDir: string;
  vmbenchVersion: string;
  /** Builds (or finds cached) the artifact for this scenario. */
  artifact: () => Promise<Artifact>;
  /** Elements of one batch of the built-in model's input (batch × C × H × W); not asked for an image workload. */
  inputElements: () => Promise<number>;
  platforms: Platform[];
  signal: AbortSignal;
  onEvent: RunListener;
}

export interface RunOutcome {
  record: RunRecord;
  dir: string;
  samples: Sample[];
}

export function newRunId(scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${scenarioName}-${randomBytes(2).toString('hex')}`;
}

/** The measurements this scenario asks for, with the platforms that can take part (the others are warned about). */
export function plannedMeasurements(s: Scenario, platforms: readonly Platform[], warn: (m: string) => void): PlannedMeasurement[] {
  const out: PlannedMeasurement[] = [];
  for (const m of MEASUREMENTS) {
    const rounds = m.rounds(s);
    if (!rounds) continue;
    const able = platforms.filter((p) => {
      const why = m.unsupported?.(p, s) ?? null;
      if (why) warn(`${p.name}: ${why}; ${m.name} skipped`);
      return why === null;
    });
    out.push({ name: m.name, uses: m.uses, leaves: m.leaves, rounds: rounds.rounds, warmup: rounds.warmup, platforms: able.map((p) => p.name) });
  }
  return out;
}

/**
 * Executes a scenario: build → prepare platforms → the plan's steps, each a
 * measurement on one platform (samples journaled as they come) → summaries.
 * Whatever happens, every instance of the run is removed before this
 * returns or throws, and run.json says how the run ended and where its wall
 * time went.
 */
export async function executeRun(ctx: RunContext, runId = newRunId(ctx.scenario.name)): Promise<RunOutcome> {
  const t0 = performance.now();
  const dir = join(ctx.resultsRoot, runId);
  const journal = new Journal(dir);
  const samples: Sample[] = [];
  const environment: Environment = hostEnvironment(ctx.projectDir, ctx.vmbenchVersion);
  const s = ctx.scenario;
  const runner = s.runner;
  const byMeasurement: Record<string, number> = {};
  const record: RunRecord = {
    schemaVersion: RUN_SCHEMA_VERSION,
    runId,
    status: 'preparing',
    scenarioFile: relative(ctx.projectDir, ctx.scenarioFile) || ctx.scenarioFile,
    scenario: s,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    environment,
    artifact: null,
    plan: { order: runner.order, seed: runner.seed, pollIntervalMs: runner.poll_interval, steps: 0 },
    identity: null,
    calibration: null,
    summaries: [],
    ratios: [],
    warnings: [],
    error: null,
  };
  let session: RunSession | undefined;
  const timing = () => {
    const measuredMs = Object.values(byMeasurement).reduce((a, b) => a + b, 0);
    const wallMs = performance.now() - t0;
    return { wallMs, measuredMs, overheadMs: wallMs - measuredMs, launches: session?.launches ?? 0, byMeasurement: { ...byMeasurement } };
  };
  const save = () => {
    const isolation = isolationFromSamples(samples);
    Object.assign(record, aggregateSamples(samples, runner.seed, s.report.reference), { timing: timing() }, isolation ? { isolation } : {});
    journal.writeRun(record);
  };
  /** Every sample goes to disk (fsync'ed) the moment it exists. */
  const recordSample = (sample: Sample, quiet: boolean) => {
    samples.push(sample);
    journal.append(sample);
    if (!quiet) ctx.onEvent({ type: 'sample', metric: sampleLabel(sample), platform: sample.platform, value: sample.value, unit: sample.unit, warmup: sample.warmup });
  };
  const warn = (message: string) => {
    if (!record.warnings.includes(message)) record.warnings.push(message);
    ctx.onEvent({ type: 'warning', message });
  };
  const info = (message: string) => ctx.onEvent({ type: 'info', message });
  save();
  info(`run ${runId} → ${relative(ctx.projectDir, dir) || dir}`);

  const throwIfAborted = () => {
    if (ctx.signal.aborted) throw new BenchError('interrupted', 'run interrupted');
  };
  try {
    record.calibration = await calibrateHost(runner.poll_interval);
    info(
      `timing resolution ≈ ${record.calibration.resolutionMs.toFixed(1)} ms (poll every ${runner.poll_interval} ms, timer ${record.calibration.timerLatenessMs.median.toFixed(1)} ms late, probe round trip ${record.calibration.pollRoundTripMs.median.toFixed(2)} ms)`,
    );
    ctx.onEvent({ type: 'phase', message: 'building the workload artifact' });
    const artifact = await ctx.artifact();
    throwIfAborted();
    record.artifact = {
      id: artifact.id,
      rootfsDigest: artifact.rootfsDigest,
      dockerImage: artifact.docker.image,
      dockerImageBytes: artifact.docker.sizeBytes ?? null,
      vmDiskBytes: artifact.vm.diskBytes,
      kernelBytes: artifact.vm.kernelBytes,
      initrdBytes: artifact.vm.initrdBytes,
      kernelVersion: artifact.vm.kernelVersion,
      model: artifact.model,
    };
    environment.rootfsDigest = artifact.rootfsDigest;
    environment.artifactId = artifact.id;

    ctx.onEvent({ type: 'phase', message: 'preparing platforms' });
    for (const p of ctx.platforms) {
      environment.platforms[p.name] = { kind: p.kind, ...(await p.prepare(artifact)) };
      throwIfAborted();
      const facts = environment.platforms[p.name]!;
      if (facts.accel === 'tcg') {
        warn(
          `${p.name}: QEMU ran under TCG software emulation (${String(facts.accelReason ?? 'KVM unavailable')}); ` +
            'VM numbers are emulated and NOT representative of a VM on a KVM host.',
        );
      }
    }
    record.fairness = auditScenario(s, environment.platforms, environment.cores);
    const steps = buildPlan({ measurements: plannedMeasurements(s, ctx.platforms, warn), order: runner.order, seed: runner.seed });
    record.plan.steps = steps.length;
    record.status = 'running';
    save();

    const readyTimeoutMs = Math.max(s.measurements.startup?.timeout ?? 0, s.measurements.cold_start?.timeout ?? 0, 180_000);
    ctx.onEvent({ type: 'phase', message: 'checking the server' });
    const server = await checkRunServer({
      scenario: s, artifact, platforms: ctx.platforms, runId, inputElements: ctx.inputElements, readyTimeoutMs,
      pollIntervalMs: runner.poll_interval, signal: ctx.signal, info, warn,
    });
    record.server = server.record;
    save();
    throwIfAborted();
    session = new RunSession(runId, artifact, server.protocol, s.workload.threads, runner.poll_interval, ctx.signal, ctx.onEvent);
    const identity = new IdentityCollector(ctx.platforms.map((p) => p.name));
    const services: RunServices = {
      session,
      artifact,
      identity,
      readyTimeoutMs,
      record: recordSample,
      warn,
      info,
    };
    await runSteps(steps, services, ctx, (step, ms) => {
      byMeasurement[step.measurement] = (byMeasurement[step.measurement] ?? 0) + ms;
      record.identity = identity.record();
      save();
    });
    const missing = identity.missing();
    if (missing.length) warn(`identity: not checked on ${missing.join(', ')} (no step launched an instance there)`);
    if (record.identity) info(`identity: ${record.identity.platforms.map((p) => `${p.platform} ${p.detail}`).join('; ')}`);
    record.status = 'completed';
  } catch (err) {
    record.status = ctx.signal.aborted ? 'interrupted' : 'failed';
    record.error = { kind: asBenchError(err).kind, message: messageOf(err) };
    throw err;
  } finally {
    await session?.stopLive();
    // Belt and braces: anything labelled or named with this run id goes too.
    await Promise.allSettled(ctx.platforms.map((p) => p.cleanupRun(runId)));
    record.finishedAt = new Date().toISOString();
    save();
    journal.close();
  }
  return { record, dir, samples };
}

/** The plan, step by step: each step's measurement on its platform, its group's instances stopped after the group's last step. */
async function runSteps(steps: PlanStep[], run: RunServices, ctx: RunContext, done: (step: PlanStep, windowMs: number) => void): Promise<void> {
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
    ctx.onEvent({ type: 'step', index: step.index, total: steps.length, metric: step.measurement, platform: step.platform, rep: step.rep, warmup: step.warmup });
    const w0 = performance.now();
    try {
      await measurementNamed(step.measurement).run(stepContext(run, step, platform, group), ctx.scenario);
    } finally {
      const windowMs = performance.now() - w0;
      if (lastUse.get(host) === step.index) {
        groups.delete(host);
        await group.close(run.session);
      }
      done(step, windowMs);
    }
  }
}
