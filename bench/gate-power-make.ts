/**
 * The measuring half of bench/gate-power.ts: real runs of a docker-only
 * scenario on this host, A/A runs at its own CPU quota and injected runs at
 * lower quotas, each one `node dist/cli/main.js run` (the harness as users run
 * it), bounded in time, with progress on stderr.
 *
 * Quotas. A cold start is part fixed cost (container create/start, Node start)
 * and part CPU work that a CFS quota stretches. Unless --quotas is given, one
 * probe run at half the quota measures how much the cold start slows per unit
 * of lost CPU, f = T(c/2)/T(c) − 1, and each target change δ gets
 * c_δ = c / (1 + δ/f) — a linear model in 1/c, which multi-threaded phases and
 * CFS throttling bend; so the replay reports the change each quota *really*
 * caused, measured from the runs, next to the one it was chosen for.
 *
 * Order: A/A and injected runs alternate (AA, L1, AA, L2, AA, L3, AA, L1, …),
 * so a drift over the session hits both alike. Everything the scenario starts
 * is the harness's own (Docker, 127.0.0.1 only: host networking with the
 * server bound to 127.0.0.1, or a bridge published on 127.0.0.1).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, closeSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { readRun } from '../src/results/read-run.js';
import { parseScenario } from '../src/scenario/load.js';
import { interleave, writeManifest, type ManifestRun, type PowerManifest } from './gate-power-runs.js';
import { runMedians } from './gate-power-replay.js';

export interface MakeOptions {
  repoRoot: string;
  scenarioFile: string;
  out: string;
  aaRuns: number;
  runsPerLevel: number;
  /** Target changes (fractions) the quotas are derived for. */
  levels: readonly number[];
  /** Explicit quotas (skip the probe); one per level. */
  quotas: readonly number[] | null;
  metric: string;
  maxMinutes: number;
  /** Per `bench run` (seconds): SIGINT, then SIGKILL 30 s later. */
  runTimeout: number;
}

const log = (line: string) => process.stderr.write(`[gate-power] ${line}\n`);
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

/** The scenario with platforms[0].cpus set (comments and name kept, so every run pairs with the same baseline). */
function scenarioAt(o: MakeOptions, text: string, cpus: number): string {
  const file = join(o.out, 'scenarios', `cpus-${cpus}.yaml`);
  if (!existsSync(file)) {
    const doc = parseDocument(text);
    doc.setIn(['platforms', 0, 'cpus'], cpus);
    mkdirSync(join(o.out, 'scenarios'), { recursive: true });
    writeFileSync(file, doc.toString());
  }
  return file;
}

interface Made {
  dir: string | null;
  seconds: number;
  ok: boolean;
  note?: string;
}

/** One `bench run` into <out>/runs; its stderr goes to a log file. */
function benchRun(o: MakeOptions, scenario: string, index: number, cpus: number): Promise<Made> {
  const runsDir = join(o.out, 'runs');
  mkdirSync(runsDir, { recursive: true });
  mkdirSync(join(o.out, 'logs'), { recursive: true });
  const before = new Set(readdirSync(runsDir));
  const logFile = join(o.out, 'logs', `${String(index).padStart(3, '0')}-cpus-${cpus}.log`);
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(o.repoRoot, 'dist', 'cli', 'main.js'), 'run', scenario, '--results', runsDir], {
      cwd: o.repoRoot,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', fd, fd],
    });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGINT'); // the harness cleans up its containers on SIGINT
      killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    }, o.runTimeout * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      closeSync(fd);
      const made = readdirSync(runsDir).filter((d) => !before.has(d));
      const dir = made.length === 1 ? join(runsDir, made[0]!) : null;
      const seconds = (performance.now() - t0) / 1000;
      resolveRun({ dir, seconds, ok: code === 0 && dir !== null, note: code === 0 ? undefined : `exit ${code} (log: ${relative(o.out, logFile)})` });
    });
  });
}

/** What is wrong with the options before anything runs (the caller's usage error), or null. */
export function makeOptionsProblem(o: Pick<MakeOptions, 'scenarioFile' | 'quotas' | 'levels'>, kinds: readonly string[]): string | null {
  if (!kinds.every((k) => k === 'docker')) return `${o.scenarioFile}: gate-power runs docker-only scenarios (found ${kinds.join(', ')})`;
  if (o.quotas && o.quotas.length !== o.levels.length) return `--quotas has ${o.quotas.length} values for ${o.levels.length} --levels`;
  return null;
}

/** Makes the runs; returns the manifest (also written after every run, so an interrupted session keeps what it made). */
export async function makeRuns(o: MakeOptions): Promise<PowerManifest> {
  const text = readFileSync(o.scenarioFile, 'utf8');
  const scenario = parseScenario(text, o.scenarioFile);
  const problem = makeOptionsProblem(o, scenario.platforms.map((p) => p.kind));
  if (problem) throw new Error(problem);
  const baseCpus = scenario.platforms[0]!.cpus;
  if (!existsSync(join(o.repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  mkdirSync(o.out, { recursive: true });
  const manifest: PowerManifest = { kind: 'vmbench-gate-power', scenarioFile: resolve(o.scenarioFile), baseCpus, levels: [], derivation: '', synthetic: false, runs: [] };
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const durations: number[] = [];
  let failuresInARow = 0;
  let index = 0;

  const one = async (cpus: number, group: ManifestRun['group'], label: string, planned: number): Promise<Made | null> => {
    const mean = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 60;
    if (elapsed() + mean > o.maxMinutes * 60) {
      log(`time budget (${o.maxMinutes} min) reached after ${mmss(elapsed())}: stopping; replay what was made`);
      return null;
    }
    index++;
    const made = await benchRun(o, scenarioAt(o, text, cpus), index, cpus);
    durations.push(made.seconds);
    manifest.runs.push({ dir: made.dir ? relative(o.out, made.dir) : null, cpus, group, ok: made.ok, seconds: Number(made.seconds.toFixed(1)), note: made.note });
    writeManifest(o.out, manifest);
    const median = made.ok ? runMedians([{ runId: '', samples: readRun(made.dir!).samples }], o.metric)[0] : undefined;
    const left = (planned - index) * (durations.reduce((a, b) => a + b, 0) / durations.length);
    log(
      `${index}/${planned} ${label} (cpus ${cpus}) ${made.ok ? 'ok' : `FAILED ${made.note}`} in ${made.seconds.toFixed(1)} s` +
        `${median !== undefined ? ` · ${o.metric} median ${median.toFixed(1)}` : ''} · elapsed ${mmss(elapsed())}, ~${mmss(Math.max(0, left))} left`,
    );
    failuresInARow = made.ok ? 0 : failuresInARow + 1;
    if (failuresInARow >= 3) throw new Error(`3 runs in a row failed; see ${join(o.out, 'logs')}`);
    return made;
  };

  let quotas = o.quotas;
  let planned = o.aaRuns + o.levels.length * o.runsPerLevel + (quotas ? 0 : 2);
  let aaMade = 0;
  if (!quotas) {
    // Probe: two A/A runs (they count as A/A runs) alternating with two runs at half the quota
    // (A H A H), so one slow moment of a shared host does not decide the quotas alone.
    const half = Number((baseCpus / 2).toFixed(2));
    const refs: Made[] = [];
    const halves: Made[] = [];
    for (let k = 1; k <= 2; k++) {
      const aa = await one(baseCpus, 'aa', `A/A ${k} (probe reference ${k}/2)`, planned);
      const probe = aa?.ok ? await one(half, 'probe', `probe at half the quota ${k}/2`, planned) : null;
      if (!aa?.ok || !probe?.ok) throw new Error('the probe runs failed: cannot derive the quotas (pass --quotas to skip the probe)');
      refs.push(aa);
      halves.push(probe);
    }
    aaMade = 2;
    const medianOf = (runs: Made[]) => {
      const ms = runs.map((r) => runMedians([{ runId: '', samples: readRun(r.dir!).samples }], o.metric)[0]!).sort((a, b) => a - b);
      return (ms[0]! + ms[ms.length - 1]!) / 2;
    };
    const mA = medianOf(refs);
    const mH = medianOf(halves);
    const f = mH / mA - 1;
    if (!(f > 0.02)) throw new Error(`halving the quota changed ${o.metric} by ${(f * 100).toFixed(1)} % (mean of two alternating pairs): a quota cannot inject a known slowdown here (pass --quotas)`);
    quotas = o.levels.map((d) => Math.max(0.1, Number((baseCpus / (1 + d / f)).toFixed(2))));
    manifest.derivation = `probe (2 alternating pairs): ${o.metric} median ${mA.toFixed(1)} at cpus ${baseCpus}, ${mH.toFixed(1)} at cpus ${half} → f = ${f.toFixed(3)}; quota for a change δ = ${baseCpus} / (1 + δ/f)`;
  } else {
    manifest.derivation = '--quotas given';
  }
  manifest.levels = o.levels.map((intended, i) => ({ cpus: quotas![i]!, intended }));
  writeManifest(o.out, manifest);
  log(`quotas: ${manifest.levels.map((l) => `${l.cpus} for +${((l.intended ?? 0) * 100).toFixed(0)} %`).join(', ')} (${manifest.derivation})`);

  const aaPlan = Array.from({ length: o.aaRuns - aaMade }, (_, i) => ({ cpus: baseCpus, group: 'aa' as const, label: `A/A ${aaMade + i + 1}` }));
  const injectedPlan = Array.from({ length: o.runsPerLevel }, (_, r) =>
    manifest.levels.map((l) => ({ cpus: l.cpus, group: 'injected' as const, label: `injected +${((l.intended ?? 0) * 100).toFixed(0)} % ${r + 1}/${o.runsPerLevel}` })),
  ).flat();
  planned = index + aaPlan.length + injectedPlan.length;
  for (const step of interleave(aaPlan, injectedPlan)) {
    if ((await one(step.cpus, step.group, step.label, planned)) === null) break;
  }
  log(`made ${manifest.runs.filter((r) => r.ok).length} runs (${manifest.runs.filter((r) => !r.ok).length} failed) in ${mmss(elapsed())} → ${o.out}`);
  return manifest;
}
