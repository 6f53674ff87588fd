import Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import { createPlatform } from '../platforms/factory.js';
import { HostRegistry } from '../platforms/remote/remote-host.js';
import { estimatePlan, LONG_RUN_MS, type PlanEstimate } from '../runner/estimate.js';
import { buildPlan } from '../runner/plan.js';
import { plannedMeasurements } from '../runner/run.js';
import { formatPath, issuesError, type LoadedScenario } from '../scenario/load.js';
import { formatDuration } from '../scenario/units.js';

/** The scenario's plan and its estimated length (platforms are constructed, nothing is started). */
export function planEstimate(loaded: LoadedScenario, cacheDir: string): PlanEstimate & { steps: number } {
  const s = loaded.scenario;
  const docker = new Dockerode();
  // Constructing a remote host connects to nothing: only the platforms' capabilities are asked.
  const hosts = new HostRegistry(s.hosts ?? {}, { cacheDir });
  const platforms = s.platforms.map((p) => createPlatform(p, { docker, cacheDir, hosts }));
  const steps = buildPlan({ measurements: plannedMeasurements(s, platforms, () => undefined), order: s.runner.order, seed: s.runner.seed });
  return { ...estimatePlan(steps, s), steps: steps.length };
}

/** "≈ 7 min (startup 3 min, cold_start 3 min, …)": the estimate as one line. */
export function describeEstimate(e: PlanEstimate & { steps: number }): string {
  const parts = Object.entries(e.byMeasurement)
    .filter(([, ms]) => ms >= 1_000)
    .sort((a, b) => b[1] - a[1])
    .map(([m, ms]) => `${m} ${formatDuration(ms)}`);
  return `≈ ${formatDuration(e.totalMs)} for ${e.steps} steps${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** A plan of more than 24 h is a typo until the user says otherwise; the error points at its largest part. */
export function refuseLongPlan(loaded: LoadedScenario, e: PlanEstimate, allowLong: boolean): void {
  if (allowLong || e.totalMs <= LONG_RUN_MS) return;
  const [biggest] = Object.entries(e.byMeasurement).sort((a, b) => b[1] - a[1]);
  const name = biggest?.[0] ?? '';
  const cfg = (loaded.scenario.measurements as Record<string, unknown>)[name] as Record<string, unknown> | undefined;
  const path = cfg && 'repetitions' in cfg ? ['measurements', name, 'repetitions'] : ['measurements', name];
  const err = issuesError(
    [{ file: loaded.file, ...loaded.locate(path), path: formatPath(path), message: `the run is estimated at ${formatDuration(e.totalMs)} (${name} ${formatDuration(biggest?.[1] ?? 0)}), more than 24 h` }],
    'input',
    'lower the repetitions or windows, or pass --allow-long if a run of days is meant',
  );
  throw err instanceof BenchError ? err : new BenchError('input', String(err));
}
