import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { join, relative } from 'node:path';
import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../errors.js';
import type { Platform } from '../platforms/platform.js';
import { hostEnvironment, type Environment } from '../results/environment.js';
import { Journal } from '../results/journal.js';
import type { Sample } from '../results/sample.js';
import type { Scenario } from '../scenario/schema.js';
import { calibrateHost } from '../measure/calibration.js';
import { densitySampleValues, measureDensity } from '../measure/density.js';
import { snapshotSampleValues } from '../measure/snapshot.js';
import { freePort } from './ports.js';
import { aggregateSamples } from '../stats/aggregate.js';
import type { Artifact } from '../workload/artifact.js';
import { DEFAULT_MODEL_NAME } from '../workload/contract.js';
import type { RunListener } from './events.js';
import { verifyIdentity } from './identity.js';
import { fixedInput } from './input.js';
import { buildPlan, type PlannedMetric } from './plan.js';
import type { RunRecord } from './run-record.js';
import { RunSession } from './session.js';
import { runSteadyPhase } from './steady.js';
import { runStep } from './step.js';

/** Everything a run needs, passed explicitly (no module-level state). */
export interface RunContext {
  scenario: Scenario;
  scenarioFile: string;
  resultsRoot: string;
  projectDir: string;
  vmbenchVersion: string;
  docker: Dockerode;
  /** Builds (or finds cached) the artifact for this scenario. */
  artifact: () => Promise<Artifact>;
  /** Elements of one batch of the model's input (batch × C × H × W). */
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

/**
 * Executes a scenario: build → prepare platforms → planned steps (launch,
 * measure, stop; one sample journaled per step) → summaries. Whatever happens,
 * every instance of the run is removed before this returns or throws, and
 * run.json says how the run ended.
 */
export async function executeRun(ctx: RunContext, runId = newRunId(ctx.scenario.name)): Promise<RunOutcome> {
  const dir = join(ctx.resultsRoot, runId);
  const journal = new Journal(dir);
  const samples: Sample[] = [];
  const environment: Environment = hostEnvironment(ctx.projectDir, ctx.vmbenchVersion);
  const runner = ctx.scenario.runner;
  const pollIntervalMs = runner.poll_interval;
  const metrics = plannedMetrics(ctx.scenario);
  const steps = buildPlan({
    platforms: ctx.platforms.map((p) => p.name),
    metrics,
    order: runner.order,
    seed: runner.seed,
  });
  const record: RunRecord = {
    schemaVersion: 1,
    runId,
    status: 'preparing',
    scenarioFile: relative(ctx.projectDir, ctx.scenarioFile) || ctx.scenarioFile,
    scenario: ctx.scenario,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    environment,
    artifact: null,
    plan: { order: runner.order, seed: runner.seed, pollIntervalMs, steps: steps.length },
    identity: null,
    calibration: null,
    summaries: [],
    ratios: [],
    warnings: [],
    error: null,
  };
  const save = () => {
    Object.assign(record, aggregateSamples(samples, runner.seed));
    journal.writeRun(record);
  };
  /** Every sample goes to disk (fsync'ed) the moment it exists. */
  const recordSample = (sample: Sample, quiet = false) => {
    samples.push(sample);
    journal.append(sample);
    if (!quiet) ctx.onEvent({ type: 'sample', metric: sample.metric, platform: sample.platform, value: sample.value, unit: sample.unit, warmup: sample.warmup });
  };
  const warn = (message: string) => {
    if (!record.warnings.includes(message)) record.warnings.push(message);
    ctx.onEvent({ type: 'warning', message });
  };
  save();
  ctx.onEvent({ type: 'info', message: `run ${runId} → ${relative(ctx.projectDir, dir) || dir}` });

  let session: RunSession | undefined;
  const throwIfAborted = () => {
    if (ctx.signal.aborted) throw new BenchError('interrupted', 'run interrupted');
  };
  try {
    record.calibration = await calibrateHost(pollIntervalMs);
    ctx.onEvent({
      type: 'info',
      message: `timing resolution ≈ ${record.calibration.resolutionMs.toFixed(1)} ms (poll every ${pollIntervalMs} ms, timer ${record.calibration.timerLatenessMs.median.toFixed(1)} ms late, probe round trip ${record.calibration.pollRoundTripMs.median.toFixed(2)} ms)`,
    });
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
    record.status = 'running';
    for (const sample of imageSizeSamples(ctx.platforms, artifact)) recordSample(sample);
    save();

    const input = fixedInput(await ctx.inputElements(), ctx.scenario.workload.seed + 1);
    const byName = new Map(ctx.platforms.map((p) => [p.name, p]));
    session = new RunSession(runId, artifact, DEFAULT_MODEL_NAME, input, ctx.scenario.workload.threads, pollIntervalMs, ctx.signal, ctx.onEvent);
    const m = ctx.scenario.measurements;

    ctx.onEvent({ type: 'phase', message: 'checking every platform runs the same rootfs and computes the same output' });
    const readyTimeout = Math.max(m.startup?.timeout ?? 0, m.cold_start?.timeout ?? 0, 180_000);
    record.identity = await verifyIdentity(session, ctx.platforms, readyTimeout);
    save();
    if (!record.identity.agreed) {
      const bad = record.identity.platforms.filter((p) => !p.agree);
      throw new BenchError(
        'mismatch',
        `outputs differ between substrates for the same input: ${bad.map((p) => `${p.platform} vs ${record.identity!.reference}: ${p.detail}`).join('; ')}`,
        { hint: 'the substrates do not compute the same thing; see identity in run.json' },
      );
    }
    ctx.onEvent({ type: 'info', message: `identity: ${record.identity.platforms.map((p) => `${p.platform} ${p.detail}`).join('; ')}` });
    for (const [index, step] of steps.entries()) {
      throwIfAborted();
      const platform = byName.get(step.platform)!;
      ctx.onEvent({ type: 'step', index, total: steps.length, ...step });
      const [main, ...phases] = await runStep(session, platform, step, step.metric === 'startup' ? m.startup!.timeout : m.cold_start!.timeout);
      recordSample(main!);
      for (const phase of phases) recordSample(phase, true);
      save();
    }
    if (m.memory || m.throughput || m.network) {
      ctx.onEvent({ type: 'phase', message: 'memory, network and throughput: one ready instance per platform' });
      for (const platform of ctx.platforms) {
        const instanceCpus = ctx.scenario.platforms.find((p) => p.name === platform.name)?.cpus ?? os.cpus().length;
        const options = { memory: m.memory, throughput: m.throughput, network: m.network, instanceCpus, readyTimeoutMs: readyTimeout, warn };
        await runSteadyPhase(session, platform, options, recordSample);
        save();
      }
    }
    if (m.memory?.under_load && !m.throughput) warn('memory.under_load needs a throughput section to make load; only the idle reading was taken.');
    if (m.density) {
      ctx.onEvent({ type: 'phase', message: 'density: instances one at a time until the memory budget, a failure or the p99 SLO' });
      for (const platform of ctx.platforms) {
        const s = session;
        const result = await measureDensity(
          {
            launch: (id) => s.launch(platform, id),
            stop: (instance) => s.stop(platform, instance),
            verify: async (instance) => void (await s.digestInside(platform, instance)),
            readyTimeoutMs: readyTimeout,
            pollIntervalMs,
            modelName: s.modelName,
            input: s.input,
            signal: ctx.signal,
            onStep: (p) => ctx.onEvent({ type: 'info', message: `density ${platform.name}: ${p.instances} instance(s), p99 ${p.p99Ms == null ? '—' : `${p.p99Ms.toFixed(1)} ms`}, ${(p.hostMemoryBytes / 2 ** 20).toFixed(0)} MiB` }),
          },
          platform,
          m.density,
        );
        throwIfAborted();
        for (const v of densitySampleValues(result)) {
          recordSample({ ...v, platform: platform.name, kind: platform.kind, rep: 0, warmup: false, timestamp: Date.now() });
        }
        if (result.error) warn(`${platform.name}: density stopped: ${result.detail}`);
        save();
      }
    }
    if (m.snapshot) {
      ctx.onEvent({ type: 'phase', message: 'snapshot/restore: snapshot a ready instance, restore a new one, time to first inference' });
      for (const platform of ctx.platforms) {
        if (!platform.snapshotRestore) {
          warn(`${platform.name}: ${platform.kind} cannot snapshot/restore; skipped`);
          continue;
        }
        throwIfAborted();
        const result = await platform.snapshotRestore(
          { runId, instanceId: `${platform.name}-snapshot`, port: await freePort(), threads: ctx.scenario.workload.threads, modelName: session.modelName },
          { readyTimeoutMs: m.snapshot.timeout, signal: ctx.signal, input: session.input },
        );
        for (const v of snapshotSampleValues(result)) {
          recordSample({ ...v, platform: platform.name, kind: platform.kind, rep: 0, warmup: false, timestamp: Date.now() });
        }
        save();
      }
    }
    record.status = 'completed';
  } catch (err) {
    record.status = ctx.signal.aborted ? 'interrupted' : 'failed';
    record.error = { kind: err instanceof BenchError ? err.kind : 'internal', message: messageOf(err) };
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

/**
 * Image size, one sample per platform: what must exist on a host before an
 * instance can start. Docker: the image size as the engine reports it. QEMU:
 * the qcow2 file's actual size on disk + kernel + initramfs (Vagrant: the same, which its box carries).
 */
function imageSizeSamples(platforms: Platform[], artifact: Artifact): Sample[] {
  const out: Sample[] = [];
  for (const p of platforms) {
    const base = { metric: 'image_size', unit: 'MiB' as const, platform: p.name, kind: p.kind, rep: 0, warmup: false, timestamp: Date.now() };
    if (p.kind === 'docker' && artifact.docker.sizeBytes != null) {
      out.push({ ...base, value: artifact.docker.sizeBytes / 2 ** 20, metadata: { image: artifact.docker.image, bytes: artifact.docker.sizeBytes, source: 'engine image inspect Size' } });
    } else if (p.kind === 'qemu' || p.kind === 'vagrant') {
      // A Vagrant box carries the same qcow2 (as box.img), kernel and initramfs.
      const { diskBytes, kernelBytes, initrdBytes } = artifact.vm;
      const bytes = diskBytes + kernelBytes + initrdBytes;
      const source = p.kind === 'qemu' ? 'qcow2 size on disk + kernel + initramfs' : 'box contents: the same qcow2 (box.img) + kernel + initramfs';
      out.push({ ...base, value: bytes / 2 ** 20, metadata: { bytes, disk_bytes: diskBytes, kernel_bytes: kernelBytes, initrd_bytes: initrdBytes, source } });
    }
  }
  return out;
}

function plannedMetrics(s: Scenario): Array<{ metric: PlannedMetric; repetitions: number; warmup: number }> {
  const out: Array<{ metric: PlannedMetric; repetitions: number; warmup: number }> = [];
  const m = s.measurements;
  if (m.startup) out.push({ metric: 'startup', repetitions: m.startup.repetitions, warmup: m.startup.warmup });
  if (m.cold_start) out.push({ metric: 'cold_start', repetitions: m.cold_start.repetitions, warmup: m.cold_start.warmup ?? 0 });
  return out;
}
