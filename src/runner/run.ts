import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { hostname } from 'node:os';
import { asBenchError, BenchError, failureCategoryOf, messageOf } from '../errors.js';
import { calibrateHost } from '../measure/calibration.js';
import { MEASUREMENTS } from '../measure/registry.js';
import { claimRun, releaseRun } from '../platforms/host/owner.js';
import type { Platform } from '../platforms/platform.js';
import { hostEnvironment, type Environment } from '../results/environment.js';
import { auditScenario } from '../results/fairness-inputs.js';
import { isolationFromSamples } from '../results/isolation.js';
import { countedSamples } from '../results/counted-samples.js';
import type { RunSegment, StepFailure } from '../results/failure.js';
import { Journal } from '../results/journal.js';
import type { StoredRun } from '../results/read-run.js';
import { RUN_SCHEMA_VERSION, type RunRecord } from '../results/run-record.js';
import { sampleLabel, type Sample } from '../results/sample.js';
import { aggregateSamples } from '../results/summarize.js';
import type { Scenario } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import type { RunListener } from './events.js';
import { IdentityCollector } from './identity.js';
import { buildPlan, type PlannedMeasurement } from './plan.js';
import { checkResumable, checkSameArtifact, checkSamePlan, IDENTITY_FILE, pendingSteps, planDigest, readIdentityAnswers } from './resume.js';
import { checkRunServer } from './server-check.js';
import { RunSession } from './session.js';
import type { RunServices } from './step-context.js';
import { runSteps } from './step-loop.js';

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
  /** The remote hosts the platforms run on (none: everything is local), fingerprinted into environment.hosts. */
  hosts?: readonly { name: string; fingerprint(): Promise<Record<string, string | number | boolean | null>> }[];
  signal: AbortSignal;
  onEvent: RunListener;
  /** Where the run's owner marker goes (<cacheDir>/owners): what a SIGKILL leaves is then found by `bench gc`. */
  cacheDir?: string;
  /** Continue this stored run (read with every sample) instead of starting a new one. */
  resume?: StoredRun;
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
 * A step that fails is recorded with its category and the run goes on (see
 * step-loop.ts). Whatever happens, every instance of the run is removed
 * before this returns or throws, and run.json says how the run ended, which
 * steps completed in which segment, and where its wall time went. With
 * ctx.resume, the stored run continues in its own directory (resume.ts).
 */
export async function executeRun(ctx: RunContext, newId = newRunId(ctx.scenario.name)): Promise<RunOutcome> {
  const t0 = performance.now();
  const resumed = ctx.resume;
  if (resumed) checkResumable(resumed);
  const runId = resumed?.record.runId ?? newId;
  const dir = resumed?.dir ?? join(ctx.resultsRoot, runId);
  const journal = new Journal(dir);
  const s = ctx.scenario;
  const runner = s.runner;
  const environment: Environment = resumed?.record.environment ?? hostEnvironment(ctx.projectDir, ctx.vmbenchVersion);
  /** Every journaled sample, of this segment and the ones before (statistics use countedSamples of them). */
  const samples: Sample[] = resumed ? [...resumed.samples] : [];
  const prior = resumed?.record.timing;
  const byMeasurement: Record<string, number> = { ...(prior?.byMeasurement ?? {}) };
  const record: RunRecord = resumed
    ? { ...resumed.record, status: 'preparing', finishedAt: null, error: null }
    : {
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
  record.completed ??= {};
  record.failures ??= [];
  record.segments ??= [];
  const completed = record.completed;
  const failures: StepFailure[] = record.failures;
  for (const seg of record.segments) if (seg.status === 'running') seg.status = 'interrupted'; // killed: it never said how it ended
  const segment: RunSegment = { index: record.segments.length, startedAt: new Date().toISOString(), finishedAt: null, status: 'running', stepsRun: 0, pid: process.pid, hostname: hostname() };
  record.segments.push(segment);
  let session: RunSession | undefined;
  const timing = () => {
    const measuredMs = Object.values(byMeasurement).reduce((a, b) => a + b, 0);
    const wallMs = (prior?.wallMs ?? 0) + performance.now() - t0;
    return { wallMs, measuredMs, overheadMs: wallMs - measuredMs, launches: (prior?.launches ?? 0) + (session?.launches ?? 0), byMeasurement: { ...byMeasurement } };
  };
  const save = () => {
    const counted = countedSamples(samples, record);
    const isolation = isolationFromSamples(counted);
    Object.assign(record, aggregateSamples(counted, runner.seed, s.report.reference), { timing: timing() }, isolation ? { isolation } : {});
    journal.writeRun(record);
  };
  /** Every sample goes to disk (fsync'ed) the moment it exists. */
  const recordSample = (sample: Sample, quiet: boolean) => {
    journal.append(sample);
    samples.push(sample);
    if (!quiet) ctx.onEvent({ type: 'sample', metric: sampleLabel(sample), platform: sample.platform, value: sample.value, unit: sample.unit, warmup: sample.warmup });
  };
  const warn = (message: string) => {
    if (!record.warnings.includes(message)) record.warnings.push(message);
    ctx.onEvent({ type: 'warning', message });
  };
  const info = (message: string) => ctx.onEvent({ type: 'info', message });
  if (ctx.cacheDir) await claimRun(ctx.cacheDir, runId, dir);
  save();
  info(`run ${runId} → ${relative(ctx.projectDir, dir) || dir}${resumed ? ` (resumed: segment ${segment.index + 1}, ${Object.keys(completed).length} of ${record.plan.steps} steps done before)` : ''}`);
  if (resumed && environment.hostname !== hostname()) warn(`resumed on ${hostname()}, the run began on ${environment.hostname}: its segments ran on different hosts`);

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
    if (resumed) checkSameArtifact(record, artifact.id);
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
      ...(artifact.gpu ? { gpu: artifact.gpu } : {}),
    };
    environment.rootfsDigest = artifact.rootfsDigest;
    environment.artifactId = artifact.id;

    for (const h of ctx.hosts ?? []) {
      ctx.onEvent({ type: 'phase', message: `fingerprinting host ${h.name}` });
      (environment.hosts ??= {})[h.name] = await h.fingerprint();
      throwIfAborted();
    }
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
    if (resumed) checkSamePlan(record, steps);
    record.plan.steps = steps.length;
    record.plan.digest = planDigest(steps);
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
    if (resumed) identity.restore(readIdentityAnswers(dir));
    const services: RunServices = {
      session,
      artifact,
      identity,
      identityDue: new Set(),
      readyTimeoutMs,
      segment: segment.index,
      record: recordSample,
      warn,
      info,
    };
    const todo = pendingSteps(steps, completed);
    await runSteps(todo, services, { platforms: ctx.platforms, scenario: s, signal: ctx.signal, onEvent: ctx.onEvent, total: steps.length }, ({ step, windowMs, failure }) => {
      byMeasurement[step.measurement] = (byMeasurement[step.measurement] ?? 0) + windowMs;
      segment.stepsRun += 1;
      if (failure) {
        failures.push({ step: step.index, measurement: step.measurement, platform: step.platform, rep: step.rep, warmup: step.warmup, ...failure, segment: segment.index, at: new Date().toISOString() });
      } else {
        completed[String(step.index)] = segment.index;
      }
      const answers = identity.saved();
      if (answers.length) journal.writeJson(join(dir, IDENTITY_FILE), answers);
      record.identity = identity.record();
      save();
    });
    const missing = identity.missing();
    if (missing.length) warn(`identity: not checked on ${missing.join(', ')} (no step launched an instance there)`);
    if (record.identity) info(`identity: ${record.identity.platforms.map((p) => `${p.platform} ${p.detail}`).join('; ')}`);
    record.status = 'completed';
    segment.status = 'completed';
  } catch (err) {
    record.status = ctx.signal.aborted ? 'interrupted' : 'failed';
    const category = ctx.signal.aborted ? 'interrupted' : failureCategoryOf(err);
    record.error = { kind: asBenchError(err).kind, message: messageOf(err), category };
    segment.status = ctx.signal.aborted ? 'interrupted' : 'failed';
    segment.error = { kind: record.error.kind, category, message: record.error.message };
    throw err;
  } finally {
    await session?.stopLive();
    // Belt and braces: anything labelled or named with this run id goes too.
    const cleanups = await Promise.allSettled(ctx.platforms.map((p) => p.cleanupRun(runId)));
    const leftBehind = cleanups.flatMap((c, i) => (c.status === 'rejected' ? [`${ctx.platforms[i]!.name}: ${messageOf(c.reason)}`] : []));
    if (leftBehind.length) warn(`cleanup incomplete (${leftBehind.join('; ')}); \`bench gc\` (or the next bench run) removes the rest`);
    record.finishedAt = new Date().toISOString();
    segment.finishedAt = record.finishedAt;
    try {
      save();
    } catch (err) {
      // A full disk: what is on disk stays as it was written last; the run's own error (if any) is the one thrown.
      ctx.onEvent({ type: 'warning', message: `run.json could not be written at the end: ${messageOf(err)}` });
    }
    journal.close();
    // The owner marker stays when something could not be removed: gc then knows whose it was, and that its owner is gone.
    if (ctx.cacheDir && !leftBehind.length) await releaseRun(ctx.cacheDir, runId).catch(() => undefined);
  }
  return { record, dir, samples: countedSamples(samples, record) };
}
