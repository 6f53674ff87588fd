import { isAbsolute, resolve } from 'node:path';
import Dockerode from 'dockerode';
import { createPlatform } from '../platforms/factory.js';
import { HostRegistry } from '../platforms/remote/remote-host.js';
import type { RunListener } from '../runner/events.js';
import type { Platform } from '../platforms/platform.js';
import { executeRun, type RunOutcome } from '../runner/run.js';
import type { StoredRun } from '../results/read-run.js';
import type { Scenario } from '../scenario/schema.js';
import type { Artifact } from '../workload/artifact.js';
import { buildArtifact, type ProgressFn } from '../workload/build/build.js';
import { buildImageArtifact } from '../workload/build/image/build-image.js';
import { classifyImageRef } from '../workload/build/image/source.js';
import { modelInputElements } from '../workload/model-input.js';
import { BenchError } from '../errors.js';
import { loadScenarioFile } from '../scenario/load.js';
import { fallbackNotice, preflightError } from '../scenario/preflight.js';
import type { CliContext } from './context.js';
import { gatherHostFacts } from './host-facts.js';
import { planEstimate, refuseLongPlan } from './plan-length.js';
import { progressListener } from './progress.js';
import type { GpuArtifactOptions } from '../workload/build/gpu-artifact.js';

/** What the GPU artifact must carry for this scenario (workload.gpu, and whether a VM will drive the GPU). */
export function gpuArtifactOptions(s: Scenario): GpuArtifactOptions {
  return {
    providersDir: s.workload.gpu?.providers,
    guestDriverDir: s.workload.gpu?.guest_driver,
    needsGuestDriver: s.platforms.some((p) => p.kind === 'qemu' || p.kind === 'vagrant'),
    allowMissing: s.workload.fallback === 'cpu',
  };
}

export interface ScenarioRunOptions {
  scenario: Scenario;
  scenarioFile: string;
  resultsRoot: string;
  docker: Dockerode;
  platforms: Platform[];
  /** The remote hosts the platforms run on (their fingerprints go into the environment). */
  hosts?: HostRegistry;
  signal: AbortSignal;
  onEvent: RunListener;
  /** Continue this stored run (`bench run --resume`). */
  resume?: StoredRun;
}

/**
 * One run of a scenario as every command that measures does it (`bench run`,
 * `bench calibrate-noise`): the artifact built or found in the CLI's cache,
 * the model input from the scenario's seed, results journaled under resultsRoot.
 */
export function executeScenario(ctx: CliContext, o: ScenarioRunOptions): Promise<RunOutcome> {
  const { scenario, docker, onEvent } = o;
  return executeRun({
    scenario,
    scenarioFile: o.scenarioFile,
    resultsRoot: o.resultsRoot,
    projectDir: ctx.projectDir,
    vmbenchVersion: ctx.version,
    platforms: o.platforms,
    hosts: o.hosts?.all().map((h) => ({ name: h.name, fingerprint: () => h.fingerprint() })),
    signal: o.signal,
    onEvent,
    cacheDir: ctx.cacheDir,
    resume: o.resume,
    artifact: () => buildScenarioArtifact(ctx, scenario, docker, (ev) => onEvent({ type: 'build', ...ev })),
    inputElements: () => {
      const { model, seed, batch } = scenario.workload;
      if (model === undefined) return Promise.reject(new BenchError('internal', 'inputElements asked of an image workload'));
      return modelInputElements(model, seed, ctx.cacheDir, batch);
    },
  });
}

/**
 * The artifact a scenario's workload runs as: the built-in server with its
 * model, or the image's flattened filesystem (workload.image); the same
 * mechanism either way — one rootfs, one Docker image, one VM disk.
 */
export function buildScenarioArtifact(ctx: CliContext, scenario: Scenario, docker: Dockerode, onProgress?: ProgressFn): Promise<Artifact> {
  const w = scenario.workload;
  if (w.image !== undefined) {
    return (async () => {
      const source = await classifyImageRef(w.image!, isAbsolute(w.image!) ? w.image! : null);
      return buildImageArtifact({
        cacheDir: ctx.cacheDir,
        docker,
        workload: { source, overrides: { command: w.command, entrypoint: w.entrypoint, env: w.env, port: w.port, user: w.user, workdir: w.workdir } },
        modelName: w.model_name,
        onProgress,
      });
    })();
  }
  return buildArtifact({
    cacheDir: ctx.cacheDir,
    model: w.model!,
    seed: w.seed,
    docker,
    vagrantBox: scenario.platforms.some((p) => p.kind === 'vagrant'),
    ...(w.device === 'gpu' ? { gpu: gpuArtifactOptions(scenario) } : {}),
    onProgress,
  });
}

/**
 * The scenario as every command that measures reads it: validated (the
 * schema), then refused early — before anything is built or started — when
 * this host cannot run it (the preflight, with the scenario location).
 */
export async function loadRunnableScenario(
  file: string,
  docker: Dockerode,
  opts: { cacheDir: string; allowLong?: boolean; hosts?: readonly { name: string; url: string }[] },
): Promise<Scenario> {
  const loaded = await loadScenarioFile(file, { hosts: opts.hosts });
  refuseLongPlan(loaded, planEstimate(loaded, opts.cacheDir), opts.allowLong === true);
  const facts = await gatherHostFacts(loaded.scenario, docker);
  const refused = preflightError(loaded, facts);
  if (refused) throw refused;
  const notice = fallbackNotice(loaded, facts);
  if (notice) process.stderr.write(`warning: ${notice}\n`);
  return loaded.scenario;
}

/** Runs the scenario once, the way `bench run` does (same platforms, artifact, journal); returns its results directory. */
async function runOnce(ctx: CliContext, scenarioFile: string, resultsRoot: string, signal: AbortSignal): Promise<string> {
  const docker = new Dockerode();
  const scenario = await loadRunnableScenario(scenarioFile, docker, { cacheDir: ctx.cacheDir });
  const progress = progressListener();
  const hosts = new HostRegistry(scenario.hosts ?? {}, { cacheDir: ctx.cacheDir });
  try {
    const platforms = scenario.platforms.map((p) => createPlatform(p, { docker, cacheDir: ctx.cacheDir, workload: scenario.workload, hosts }));
    const outcome = await executeScenario(ctx, { scenario, scenarioFile, resultsRoot, docker, platforms, hosts, signal, onEvent: progress.listener });
    return outcome.dir;
  } finally {
    hosts.close();
    progress.stop();
  }
}

/**
 * K identical runs of a scenario, one after the other (`bench calibrate-noise`,
 * `bench baseline save <scenario> --runs K`); SIGINT/SIGTERM stop the run in
 * progress cleanly. Returns the results directories in run order.
 */
export async function runScenarioTimes(ctx: CliContext, scenarioFile: string, resultsRoot: string, k: number, command: string): Promise<string[]> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(new BenchError('interrupted', `interrupted by ${sig}`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const dirs: string[] = [];
  try {
    for (let i = 0; i < k; i++) {
      process.stderr.write(`${command}: run ${i + 1} of ${k}\n`);
      dirs.push(await runOnce(ctx, resolve(scenarioFile), resolve(resultsRoot), controller.signal));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return dirs;
}
