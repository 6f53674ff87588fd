import type { BenchError } from '../errors.js';
import { formatPath, issuesError, type KeyPath, type LoadedScenario, type ScenarioIssue } from './load.js';
import { formatBytes } from './units.js';

/**
 * Host preflight: the checks that depend on the machine a scenario runs on
 * (everything else is the schema's). One function for `bench run` and
 * `bench validate --host`; pure, over facts the caller gathered, so each
 * problem still names file:line:column. Asking for more than the host has is
 * the user's error (exit 2); a missing engine or device is the host's
 * (exit 3).
 */

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  /** Per engine the scenario needs: null when usable, else what is wrong. */
  engines: Partial<Record<'docker' | 'qemu' | 'vagrant', string | null>>;
  /**
   * device: gpu only: what stands between this host and the scenario, each
   * at its key ([] when nothing; gathered by the CLI, cli/doctor/gpu-readiness.ts).
   */
  gpu?: Array<{ path: KeyPath; message: string }>;
  /** OCI runtimes the Docker Engine has registered (only asked when a docker platform exists and the engine answers). */
  dockerRuntimes?: string[];
}

const HINTS = {
  input: 'give the platform what this host has (bench doctor shows it), or run the scenario on a larger host',
  unsupported: 'run `npx bench doctor` for what this host can run and how to fix it',
} as const;

/** bench doctor --scenario FILE repeats a GPU scenario's problems, at the same places. */
const gpuHint = (file: string) => `run \`npx bench doctor --scenario ${file}\` for the same list and what this host has`;

export function preflightIssues(loaded: LoadedScenario, host: HostFacts): { input: ScenarioIssue[]; unsupported: ScenarioIssue[] } {
  const { scenario: s, file } = loaded;
  const input: ScenarioIssue[] = [];
  const unsupported: ScenarioIssue[] = [];
  const add = (to: ScenarioIssue[], path: KeyPath, message: string) =>
    to.push({ file, ...loaded.locate(path), path: formatPath(path), message });
  s.platforms.forEach((p, i) => {
    if (p.cpus > host.cpus) add(input, ['platforms', i, 'cpus'], `expected at most ${host.cpus} CPUs (all this host has), got ${p.cpus}`);
    if (p.memory > host.memoryBytes) {
      add(input, ['platforms', i, 'memory'], `expected at most ${formatBytes(host.memoryBytes)} (all this host has), got ${formatBytes(p.memory)}`);
    }
    const engine = host.engines[p.kind];
    if (engine) add(unsupported, ['platforms', i, 'kind'], `this host cannot run ${p.kind} platforms: ${engine}`);
    if (p.kind === 'docker' && host.dockerRuntimes && !host.dockerRuntimes.includes(p.runtime)) {
      add(
        unsupported,
        ['platforms', i, 'runtime'],
        `expected a runtime the Docker Engine has registered (${host.dockerRuntimes.join(', ') || 'none'}), got "${p.runtime}"; ./scripts/setup.sh registers crun and runsc, a KVM host can add kata-runtime`,
      );
    }
  });
  const budget = s.measurements.density?.memory_budget;
  if (budget !== undefined && budget > host.memoryBytes) {
    add(input, ['measurements', 'density', 'memory_budget'], `expected at most ${formatBytes(host.memoryBytes)} (all this host has), got ${formatBytes(budget)}`);
  }
  // fallback: cpu (written out) turns every GPU problem into a run on CPU, recorded on each sample.
  if (s.workload.device === 'gpu' && s.workload.fallback !== 'cpu') {
    for (const p of host.gpu ?? []) add(unsupported, p.path, p.message);
  }
  return { input, unsupported };
}

/** The preflight as one error (input problems first), or null when the host can run the scenario. */
export function preflightError(loaded: LoadedScenario, host: HostFacts): BenchError | null {
  const { input, unsupported } = preflightIssues(loaded, host);
  if (input.length) return issuesError([...input, ...unsupported], 'input', HINTS.input);
  const gpu = loaded.scenario.workload.device === 'gpu' && (host.gpu?.length ?? 0) > 0;
  if (unsupported.length) return issuesError(unsupported, 'unsupported', gpu ? gpuHint(loaded.file) : HINTS.unsupported);
  return null;
}

/**
 * fallback: cpu lets a GPU scenario run on a host that cannot give it the
 * GPU; said before the run starts (not first discovered in its samples).
 */
export function fallbackNotice(loaded: LoadedScenario, host: HostFacts): string | null {
  const { scenario: s, file } = loaded;
  if (s.workload.device !== 'gpu' || s.workload.fallback !== 'cpu' || !(host.gpu?.length)) return null;
  return `${file}: workload.fallback: cpu — this host cannot run device: gpu as asked (\`npx bench doctor --scenario ${file}\` says why); where the GPU is missing inference runs on CPU, and every sample records the device it ran on`;
}
