/**
 * The stored side of bench/gate-power.ts: the results directory's manifest,
 * reading its runs back as A/A and injected groups (by the container's CPU
 * quota each run recorded), and writing synthetic runs in the same layout so
 * the replay can be checked without Docker.
 *
 * Layout of a gate-power directory:
 *   manifest.json             what was asked, how the quotas were chosen, each run made
 *   scenarios/cpus-<c>.yaml   the scenario with platforms[0].cpus = c (same name, so runs pair)
 *   runs/<run-id>/            results directories written by `bench run`
 *   logs/<n>-cpus-<c>.log     stderr of each `bench run`
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hostKeyOf, scenarioNameOf } from '../src/gate/baseline.js';
import type { RunSamples } from '../src/gate/noise.js';
import { readRun, type StoredRun } from '../src/results/read-run.js';
import type { Sample } from '../src/results/sample.js';
import { parseScenario } from '../src/scenario/load.js';
import { seededRandom } from '../src/stats/random.js';
import type { InjectedGroup, ReplayInput } from './gate-power-replay.js';

export interface ManifestRun {
  dir: string | null;
  cpus: number;
  group: 'aa' | 'injected' | 'probe';
  ok: boolean;
  seconds: number;
  note?: string;
}

export interface PowerManifest {
  kind: 'vmbench-gate-power';
  scenarioFile: string;
  baseCpus: number;
  /** Quota levels and the change each was chosen for. */
  levels: Array<{ cpus: number; intended: number | null }>;
  /** How the quotas were chosen (probe measurement or --quotas). */
  derivation: string;
  synthetic: boolean;
  runs: ManifestRun[];
}

export function writeManifest(dir: string, m: PowerManifest): void {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
}

export function readManifest(dir: string): PowerManifest | null {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<PowerManifest>;
  return value.kind === 'vmbench-gate-power' ? (value as PowerManifest) : null;
}

/** The CPU quota a run's first platform ran with (run.json keeps the parsed scenario). */
export function cpusOf(run: StoredRun): number | null {
  const s = run.record.scenario as { platforms?: Array<{ cpus?: unknown }> } | null;
  const cpus = s?.platforms?.[0]?.cpus;
  return typeof cpus === 'number' ? cpus : null;
}

export interface LoadedRuns {
  input: ReplayInput;
  scenario: string;
  hostKey: string;
  baseCpus: number;
  manifest: PowerManifest | null;
  /** Runs left out, with why. */
  skipped: string[];
}

/** Every completed run under <dir>/runs (or <dir> itself), grouped by quota: the base quota is the A/A group. */
export function loadRuns(dir: string): LoadedRuns {
  const root = resolve(dir);
  const manifest = readManifest(root);
  const runsDir = existsSync(join(root, 'runs')) ? join(root, 'runs') : root;
  const skipped: string[] = [];
  const runs: StoredRun[] = [];
  for (const name of readdirSync(runsDir).sort()) {
    if (!existsSync(join(runsDir, name, 'run.json'))) continue;
    const run = readRun(join(runsDir, name));
    if (run.record.status !== 'completed') skipped.push(`${name}: status ${run.record.status}`);
    else if (cpusOf(run) === null) skipped.push(`${name}: no platforms[0].cpus in run.json`);
    else runs.push(run);
  }
  if (runs.length === 0) throw new Error(`no completed runs under ${runsDir}`);
  const scenarios = new Set(runs.map((r) => scenarioNameOf(r.record)));
  const hosts = new Set(runs.map((r) => hostKeyOf(r.record.environment)));
  if (scenarios.size > 1) throw new Error(`runs of several scenarios under ${runsDir}: ${[...scenarios].join(', ')}`);
  if (hosts.size > 1) throw new Error(`runs from several hosts under ${runsDir}: ${[...hosts].join(', ')}`);
  runs.sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
  const baseCpus = manifest?.baseCpus ?? Math.max(...runs.map((r) => cpusOf(r)!));
  const asSamples = (r: StoredRun): RunSamples => ({ runId: r.record.runId, samples: r.samples });
  const byCpus = new Map<number, StoredRun[]>();
  for (const r of runs) byCpus.set(cpusOf(r)!, [...(byCpus.get(cpusOf(r)!) ?? []), r]);
  const injected: InjectedGroup[] = [...byCpus]
    .filter(([cpus]) => cpus !== baseCpus)
    .sort(([a], [b]) => b - a)
    .map(([cpus, group]) => ({
      label: `cpus ${cpus}`,
      cpus,
      intended: manifest?.levels.find((l) => l.cpus === cpus)?.intended ?? null,
      runs: group.map(asSamples),
    }));
  return {
    input: { aa: (byCpus.get(baseCpus) ?? []).map(asSamples), injected },
    scenario: [...scenarios][0]!,
    hostKey: [...hosts][0]!,
    baseCpus,
    manifest,
    skipped,
  };
}

export interface SynthOptions {
  out: string;
  /** A recorded run whose run.json (environment, artifact) the synthetic runs copy. */
  template: string;
  scenarioFile: string;
  aaRuns: number;
  runsPerLevel: number;
  /** Changes (fractions) the injected levels cause. */
  levels: readonly number[];
  samplesPerRun: number;
  center: number;
  /** Log SD of the per-run offset and of the per-sample noise. */
  runSd: number;
  sampleSd: number;
  seed: number;
}

/** a[0], b[0], a[1], b[1], …, then the rest of the longer one: A/A and injected runs alternate in time, so a drift over the session hits both alike. */
export function interleave<A, B>(a: readonly A[], b: readonly B[]): Array<A | B> {
  const out: Array<A | B> = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Synthetic runs in the layout `make` writes: cold_start from the one-way
 * random-effects model (log y = log center + u[run] + e[sample]) plus the
 * run's image_size, A/A runs at the scenario's quota and `runsPerLevel` runs
 * per level, interleaved in time. For checking the replay without Docker.
 */
export function writeSyntheticRuns(o: SynthOptions): PowerManifest {
  const template = readRun(o.template).record;
  const scenario = parseScenario(readFileSync(o.scenarioFile, 'utf8'), o.scenarioFile);
  const baseCpus = scenario.platforms[0]!.cpus;
  const levels = o.levels.map((intended, i) => ({ cpus: Number((baseCpus * (1 - 0.1 * (i + 1))).toFixed(2)), intended }));
  const manifest: PowerManifest = {
    kind: 'vmbench-gate-power',
    scenarioFile: o.scenarioFile,
    baseCpus,
    levels,
    derivation: `synthetic: run-to-run SD ${o.runSd}, per-sample SD ${o.sampleSd} (log scale), ${o.samplesPerRun} samples per run; levels cause exactly ${o.levels.join(', ')}`,
    synthetic: true,
    runs: [],
  };
  mkdirSync(join(o.out, 'runs'), { recursive: true });
  const rand = seededRandom(o.seed);
  const plan = interleave(
    Array.from({ length: o.aaRuns }, () => ({ cpus: baseCpus, change: 0, group: 'aa' as const })),
    Array.from({ length: o.runsPerLevel }, () => levels.map((l) => ({ cpus: l.cpus, change: l.intended!, group: 'injected' as const }))).flat(),
  );
  const start = Date.parse('2026-12-01T00:00:00Z');
  plan.forEach((p, i) => {
    const runId = `synthetic-${String(i).padStart(3, '0')}-cpus-${p.cpus}`;
    const dir = join(o.out, 'runs', runId);
    mkdirSync(dir, { recursive: true });
    const startedAt = new Date(start + i * 30_000).toISOString();
    const platforms = scenario.platforms.map((pl, j) => (j === 0 ? { ...pl, cpus: p.cpus } : pl));
    const record = { ...template, runId, status: 'completed', startedAt, finishedAt: startedAt, scenario: { ...scenario, platforms }, summaries: [], ratios: [], warnings: [], error: null };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
    const offset = o.runSd * normal(rand);
    const base = { platform: platforms[0]!.name, kind: platforms[0]!.kind, warmup: false, timestamp: start + i * 30_000, metadata: {} };
    const samples: Sample[] = [{ ...base, metric: 'image_size', value: 261.9, unit: 'MiB', rep: 0 }];
    for (let rep = 0; rep < o.samplesPerRun; rep++) {
      samples.push({ ...base, metric: 'cold_start', value: o.center * (1 + p.change) * Math.exp(offset + o.sampleSd * normal(rand)), unit: 'ms', rep });
    }
    writeFileSync(join(dir, 'samples.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
    manifest.runs.push({ dir: join('runs', runId), cpus: p.cpus, group: p.group, ok: true, seconds: 0 });
  });
  writeManifest(o.out, manifest);
  return manifest;
}
