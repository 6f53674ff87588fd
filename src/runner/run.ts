import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../errors.js';
import { measureColdStart, measureStartup, type ReadinessOptions } from '../measure/startup.js';
import { probe } from '../measure/http-probe.js';
import type { Platform, Instance } from '../platforms/platform.js';
import { hostEnvironment, type Environment } from '../results/environment.js';
import { Journal } from '../results/journal.js';
import type { Sample } from '../results/sample.js';
import type { Scenario } from '../scenario/schema.js';
import { containerRatios, summarizeSamples } from '../stats/aggregate.js';
import type { Artifact } from '../workload/artifact.js';
import { DEFAULT_MODEL_NAME, ENDPOINTS, type ServerInfo } from '../workload/contract.js';
import type { RunListener } from './events.js';
import { fixedInput } from './input.js';
import { buildPlan, type PlannedMetric, type PlanStep } from './plan.js';
import { freePort } from './ports.js';
import { compareOutputs, OUTPUT_TOLERANCE, topK, type InferenceOutput } from './output-agreement.js';
import type { IdentityCheck, RunRecord } from './run-record.js';

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
    summaries: [],
    ratios: [],
    warnings: [],
    error: null,
  };
  const save = () => {
    record.summaries = summarizeSamples(samples);
    record.ratios = containerRatios(record.summaries);
    journal.writeRun(record);
  };
  const warn = (message: string) => {
    if (!record.warnings.includes(message)) record.warnings.push(message);
    ctx.onEvent({ type: 'warning', message });
  };
  save();
  ctx.onEvent({ type: 'info', message: `run ${runId} → ${relative(ctx.projectDir, dir) || dir}` });

  const live = new Set<{ platform: Platform; instance: Instance }>();
  try {
    ctx.onEvent({ type: 'phase', message: 'building the workload artifact' });
    const artifact = await ctx.artifact();
    throwIfAborted(ctx.signal);
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
      throwIfAborted(ctx.signal);
      const facts = environment.platforms[p.name]!;
      if (facts.accel === 'tcg') {
        warn(
          `${p.name}: QEMU ran under TCG software emulation (${String(facts.accelReason ?? 'KVM unavailable')}); ` +
            'VM numbers are emulated and NOT representative of a VM on a KVM host.',
        );
      }
    }
    record.status = 'running';
    for (const sample of imageSizeSamples(ctx.platforms, artifact)) {
      samples.push(sample);
      journal.append(sample);
    }
    save();

    const input = fixedInput(await ctx.inputElements(), ctx.scenario.workload.seed + 1);
    const byName = new Map(ctx.platforms.map((p) => [p.name, p]));
    const modelName = DEFAULT_MODEL_NAME;

    ctx.onEvent({ type: 'phase', message: 'checking every platform runs the same rootfs and computes the same output' });
    record.identity = await verifyIdentity(ctx, runId, modelName, input, pollIntervalMs, artifact, live);
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
      throwIfAborted(ctx.signal);
      const platform = byName.get(step.platform)!;
      ctx.onEvent({ type: 'step', index, total: steps.length, ...step });
      const sample = await runStep(ctx, platform, step, runId, modelName, input, pollIntervalMs, artifact, live);
      samples.push(sample);
      journal.append(sample);
      save();
      ctx.onEvent({ type: 'sample', metric: sample.metric, platform: sample.platform, value: sample.value, unit: sample.unit, warmup: sample.warmup });
    }
    record.status = 'completed';
  } catch (err) {
    record.status = ctx.signal.aborted ? 'interrupted' : 'failed';
    record.error = { kind: err instanceof BenchError ? err.kind : 'internal', message: messageOf(err) };
    throw err;
  } finally {
    await stopAll(ctx.platforms, live, runId);
    record.finishedAt = new Date().toISOString();
    save();
    journal.close();
  }
  return { record, dir, samples };
}

/**
 * Image size, one sample per platform: what must exist on a host before an
 * instance can start. Docker: the image size as the engine reports it. QEMU:
 * the qcow2 file's actual size on disk + kernel + initramfs.
 */
function imageSizeSamples(platforms: Platform[], artifact: Artifact): Sample[] {
  const out: Sample[] = [];
  for (const p of platforms) {
    const base = { metric: 'image_size', unit: 'MiB' as const, platform: p.name, kind: p.kind, rep: 0, warmup: false, timestamp: Date.now() };
    if (p.kind === 'docker' && artifact.docker.sizeBytes != null) {
      out.push({ ...base, value: artifact.docker.sizeBytes / 2 ** 20, metadata: { image: artifact.docker.image, bytes: artifact.docker.sizeBytes, source: 'engine image inspect Size' } });
    } else if (p.kind === 'qemu') {
      const { diskBytes, kernelBytes, initrdBytes } = artifact.vm;
      const bytes = diskBytes + kernelBytes + initrdBytes;
      out.push({ ...base, value: bytes / 2 ** 20, metadata: { bytes, disk_bytes: diskBytes, kernel_bytes: kernelBytes, initrd_bytes: initrdBytes, source: 'qcow2 size on disk + kernel + initramfs' } });
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

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new BenchError('interrupted', 'run interrupted');
}

/** One launch → measure → stop cycle, producing one sample. */
async function runStep(
  ctx: RunContext,
  platform: Platform,
  step: PlanStep,
  runId: string,
  modelName: string,
  input: Buffer,
  pollIntervalMs: number,
  artifact: Artifact,
  live: Set<{ platform: Platform; instance: Instance }>,
): Promise<Sample> {
  const m = ctx.scenario.measurements;
  const timeoutMs = step.metric === 'startup' ? m.startup!.timeout : m.cold_start!.timeout;
  const instanceId = `${step.platform}-${step.metric.replace('_', '')}-${step.rep}`.toLowerCase();
  const port = await freePort();
  const timestamp = Date.now();
  const instance = await platform.launch({ runId, instanceId, port, threads: ctx.scenario.workload.threads, modelName });
  const entry = { platform, instance };
  live.add(entry);
  try {
    const options: ReadinessOptions = {
      intervalMs: pollIntervalMs,
      requestTimeoutMs: 200,
      timeoutMs,
      signal: ctx.signal,
    };
    let measured: { ms: number; poll: { attempts: number } };
    try {
      measured =
        step.metric === 'startup'
          ? await measureStartup(instance, options)
          : await measureColdStart(instance, modelName, input, options);
    } catch (cause) {
      if (ctx.signal.aborted) throw new BenchError('interrupted', 'run interrupted', { cause });
      throw new BenchError(
        'infrastructure',
        `${platform.name}: ${step.metric} rep ${step.rep}: no ${step.metric === 'startup' ? 'readiness' : 'inference answer'} within ${timeoutMs} ms (${messageOf(cause)})`,
        { cause, hint: 'raise the timeout in the scenario, or look at `bench doctor`' },
      );
    }
    const lc = instance.lifecycle;
    const info = await readServerInfo(instance);
    if (info && info.rootfsDigest !== artifact.rootfsDigest) {
      throw new BenchError(
        'mismatch',
        `${platform.name} runs rootfs ${String(info.rootfsDigest)}, expected ${artifact.rootfsDigest}: the substrates do not run the same artifact`,
      );
    }
    return {
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
        poll_interval_ms: pollIntervalMs,
        rootfs_digest_inside: info?.rootfsDigest ?? null,
        ...instance.facts,
      },
    };
  } finally {
    live.delete(entry);
    await platform.stop(instance).catch((err: unknown) => {
      ctx.onEvent({ type: 'warning', message: `${platform.name}: stopping ${instance.id} failed: ${messageOf(err)}` });
    });
  }
}

/**
 * Before measuring: one instance per platform answers the run's fixed input;
 * each output is compared with the first platform's (top-5 per row and max
 * |Δ| ≤ tolerance), and each server reports the rootfs digest it reads inside.
 */
async function verifyIdentity(
  ctx: RunContext,
  runId: string,
  modelName: string,
  input: Buffer,
  pollIntervalMs: number,
  artifact: Artifact,
  live: Set<{ platform: Platform; instance: Instance }>,
): Promise<IdentityCheck> {
  const outputs: Array<{ platform: string; digest: string | null; output: InferenceOutput }> = [];
  const m = ctx.scenario.measurements;
  const timeoutMs = Math.max(m.startup?.timeout ?? 0, m.cold_start?.timeout ?? 0, 180_000);
  for (const platform of ctx.platforms) {
    throwIfAborted(ctx.signal);
    const instance = await platform.launch({ runId, instanceId: `${platform.name}-identity`, port: await freePort(), threads: ctx.scenario.workload.threads, modelName });
    const entry = { platform, instance };
    live.add(entry);
    try {
      const res = await measureColdStart(instance, modelName, input, { intervalMs: pollIntervalMs, requestTimeoutMs: 200, timeoutMs, signal: ctx.signal });
      const body = JSON.parse(res.poll.response.body.toString()) as { outputs: InferenceOutput[] };
      const output = body.outputs[0];
      if (!output) throw new BenchError('infrastructure', `${platform.name}: inference answer has no outputs`);
      const info = await readServerInfo(instance);
      if (info?.rootfsDigest !== artifact.rootfsDigest) {
        throw new BenchError(
          'mismatch',
          `${platform.name} runs rootfs ${String(info?.rootfsDigest)}, expected ${artifact.rootfsDigest}: the substrates do not run the same artifact`,
        );
      }
      outputs.push({ platform: platform.name, digest: info.rootfsDigest, output });
    } catch (cause) {
      if (cause instanceof BenchError) throw cause;
      if (ctx.signal.aborted) throw new BenchError('interrupted', 'run interrupted', { cause });
      throw new BenchError('infrastructure', `${platform.name}: identity check failed: ${messageOf(cause)}`, { cause });
    } finally {
      live.delete(entry);
      await platform.stop(instance).catch(() => undefined);
    }
  }
  const reference = outputs[0]!;
  const platforms = outputs.map((o) => {
    const a = compareOutputs(reference.output, o.output);
    const rowWidth = o.output.data.length / (o.output.shape[0] ?? 1);
    const top5 = Array.from({ length: o.output.shape[0] ?? 1 }, (_, r) => topK(o.output.data.slice(r * rowWidth, (r + 1) * rowWidth), 5));
    return { platform: o.platform, rootfsDigestInside: o.digest, outputShape: o.output.shape, top5, maxAbsDiff: a.maxAbsDiff, agree: a.agree, detail: a.detail };
  });
  return { reference: reference.platform, tolerance: OUTPUT_TOLERANCE, agreed: platforms.every((p) => p.agree), platforms };
}

/** The rootfs digest as the running server reads it from inside its own filesystem. */
async function readServerInfo(instance: Instance): Promise<ServerInfo | null> {
  try {
    const res = await probe({ url: instance.baseUrl + ENDPOINTS.info, timeoutMs: 5_000 });
    return res.status === 200 ? (JSON.parse(res.body.toString()) as ServerInfo) : null;
  } catch {
    return null;
  }
}

async function stopAll(platforms: Platform[], live: Set<{ platform: Platform; instance: Instance }>, runId: string) {
  await Promise.allSettled([...live].map(({ platform, instance }) => platform.stop(instance)));
  live.clear();
  // Belt and braces: anything labelled/named with this run id goes too.
  await Promise.allSettled(platforms.map((p) => p.cleanupRun(runId)));
}
