/**
 * gate-power: the regression gate's measured false-alarm rate and power on this host.
 *
 *   npx tsx bench/gate-power.ts make   --out DIR [--aa-runs 12] [--levels 5,10,20] [--runs-per-level 4]
 *                                      [--quotas 1.7,1.5,1.2] [--scenario scenarios/gate-smoke.yaml]
 *                                      [--max-minutes 40] [--run-timeout 300]
 *   npx tsx bench/gate-power.ts replay --from DIR [--designs 1x1,1n5x1,3x1,5x1,8x1,5x3,8x3] [--shipped 8x3]
 *                                      [--thresholds 5,10] [--changes 5,10,20] [--max-comparisons 300]
 *                                      [--metric cold_start] [--alpha 0.05] [--seed 1] [--json FILE]
 *   npx tsx bench/gate-power.ts synth  --out DIR [--aa-runs 12] [--levels 5,10,20] [--runs-per-level 4]
 *                                      [--run-sd 5] [--sample-sd 6] [--n 10] [--seed 1]
 *
 * make   — real runs of a docker-only scenario (`node dist/cli/main.js run`): A/A runs at the
 *          scenario's CPU quota and runs at lower quotas chosen to slow the cold start by the
 *          --levels (two probe runs at half the quota, alternating with A/A runs, measure how; --quotas skips it), alternating
 *          in time; bounded by --max-minutes (stops starting runs, keeps what it made) and
 *          --run-timeout per run; progress on stderr; everything under --out (see
 *          bench/gate-power-runs.ts). 127.0.0.1 only: the harness's own containers.
 * replay — from a directory of runs (made by `make`, or any results directory of one scenario on
 *          one host; the runs at the highest quota are the A/A group): for each design
 *          "K_b baseline runs vs K_c current runs" ("1nKx1" = one baseline run + a noise profile of
 *          K other runs), the gate's false-alarm rate on A/A comparisons, its detection rate for
 *          synthetic changes of --changes % injected into real A/A runs, and for the real quota
 *          runs (with the change each quota really caused), each with the number of comparisons
 *          it rests on. No Docker; seconds.
 * synth  — synthetic runs in the same layout (one-way random-effects model), to check the replay.
 *
 * Percentages are given as plain numbers (5 = 5 %). Exit codes: 0 ok · 2 bad flags · 3 runs failed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { logSd } from '../src/gate/run-level.js';
import { withinRunLogSd } from '../src/gate/sensitivity.js';
import { resolveThreshold } from '../src/gate/thresholds.js';
import type { GateConfig } from '../src/scenario/schema.js';
import { parseScenario } from '../src/scenario/load.js';
import { makeOptionsProblem, makeRuns } from './gate-power-make.js';
import { designLabel, replay, runMedians, runsNeeded, type DesignResult, type Rate, type ReplayDesign } from './gate-power-replay.js';
import { loadRuns, writeSyntheticRuns } from './gate-power-runs.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'runs', '20261125-195847-smoke-ab6d');

class UsageError extends Error {}

function usage(): string {
  const text = readFileSync(new URL(import.meta.url), 'utf8');
  const doc = text.slice(text.indexOf('/**') + 3, text.indexOf('*/'));
  return doc.split('\n').map((l) => l.replace(/^ \* ?/, '')).join('\n').trim() + '\n';
}

function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${key} needs a value`);
    flags.set(key, value);
  }
  return flags;
}

function flagReader(flags: Map<string, string>, known: readonly string[]) {
  for (const k of flags.keys()) if (!known.includes(k)) throw new UsageError(`unknown flag --${k} (see --help)`);
  const int = (k: string, def: number, min = 1) => {
    const v = flags.has(k) ? Number(flags.get(k)) : def;
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${k} must be a whole number ≥ ${min}, got "${flags.get(k)}"`);
    return v;
  };
  const num = (k: string, def: number, ok: (v: number) => boolean, what: string) => {
    const v = flags.has(k) ? Number(flags.get(k)) : def;
    if (!ok(v)) throw new UsageError(`--${k} must be ${what}, got "${flags.get(k)}"`);
    return v;
  };
  const list = (k: string, def: string) => {
    const parts = (flags.get(k) ?? def).split(',').map((s) => Number(s.trim()));
    if (parts.length === 0 || parts.some((v) => !(v >= 0) || !Number.isFinite(v))) throw new UsageError(`--${k} must be a comma-separated list of numbers, got "${flags.get(k)}"`);
    return parts;
  };
  const str = (k: string, def?: string) => {
    const v = flags.get(k) ?? def;
    if (v === undefined) throw new UsageError(`--${k} is required`);
    return v;
  };
  return { int, num, list, str, has: (k: string) => flags.has(k) };
}

/** "8x3" → 8 baseline vs 3 current runs; "1n5x1" → one baseline run + a noise profile of 5 runs, vs 1. */
export function parseDesign(text: string): ReplayDesign {
  const m = /^(\d+)(?:n(\d+))?x(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`design "${text}": expected KxC (e.g. 8x3) or 1nKx1 (one run + noise profile of K runs)`);
  const design = { baselineRuns: Number(m[1]), noiseRuns: Number(m[2] ?? 0), currentRuns: Number(m[3]) };
  if (design.baselineRuns < 1 || design.currentRuns < 1 || (design.noiseRuns > 0 && (design.baselineRuns !== 1 || design.noiseRuns < 2))) {
    throw new UsageError(`design "${text}": at least one run a side; a noise profile goes with one baseline run and needs ≥ 2 runs`);
  }
  return design;
}

const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)}%`;
const rate = (r: Rate) => (r.trials === 0 ? '—' : `${pct(r.hits / r.trials)} (${r.hits}/${r.trials})`);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function doReplay(args: string[]): number {
  const f = flagReader(parseFlags(args), ['from', 'designs', 'shipped', 'thresholds', 'changes', 'max-comparisons', 'metric', 'alpha', 'power', 'seed', 'json']);
  const from = f.str('from');
  if (!existsSync(from)) throw new UsageError(`--from ${from}: no such directory`);
  const loaded = loadRuns(from);
  const metric = f.str('metric', 'cold_start');
  const scenarioOf = loaded.manifest?.scenarioFile && existsSync(loaded.manifest.scenarioFile) ? loaded.manifest.scenarioFile : null;
  const gate: GateConfig | undefined = scenarioOf ? parseScenario(readFileSync(scenarioOf, 'utf8'), scenarioOf).gate : undefined;
  const alpha = f.num('alpha', gate?.alpha ?? 0.05, (v) => v > 0 && v < 1, 'in (0, 1)');
  const power = f.num('power', gate?.power ?? 0.8, (v) => v > 0 && v < 1, 'in (0, 1)');
  const designs = f.str('designs', '1x1,1n5x1,3x1,5x1,8x1,5x3,8x3').split(',').map(parseDesign);
  const shipped = parseDesign(f.str('shipped', '8x3'));
  if (!designs.some((d) => designLabel(d) === designLabel(shipped))) designs.push(shipped);
  const scenarioThreshold = resolveThreshold(metric, gate?.thresholds).threshold;
  const thresholds = f.has('thresholds') ? f.list('thresholds', '').map((v) => v / 100) : [scenarioThreshold];
  const changes = f.list('changes', '5,10,20').map((v) => v / 100);
  const maxComparisons = f.int('max-comparisons', 300);
  const seed = f.int('seed', 1, 0);

  const { aa, injected } = loaded.input;
  const medians = runMedians(aa, metric);
  const perRun = aa.map((r) => r.samples.filter((s) => s.metric === metric && !s.warmup).map((s) => s.value));
  const runSd = logSd(medians);
  const sampleSd = withinRunLogSd(perRun);
  const out: string[] = [];
  out.push(`gate-power replay: ${aa.length} A/A runs (cpus ${loaded.baseCpus}) + ${injected.map((g) => `${g.runs.length} at cpus ${g.cpus}`).join(', ') || 'no injected runs'}`);
  out.push(`  scenario ${loaded.scenario}, host ${loaded.hostKey}${loaded.manifest?.synthetic ? ', SYNTHETIC runs' : ''}; metric ${metric}; α ${alpha} (${gate?.correction ?? 'holm'}), power ${power}`);
  if (loaded.skipped.length) out.push(`  left out: ${loaded.skipped.join('; ')}`);
  out.push(`  A/A run medians: ${medians.map((m) => m.toFixed(1)).join(', ')}`);
  out.push(`  run-to-run SD of the medians ${runSd === null ? '—' : pct(runSd)}, within-run SD per sample ${sampleSd === null ? '—' : pct(sampleSd)} (log scale ≈ relative)`);
  if (loaded.manifest?.derivation) out.push(`  quotas: ${loaded.manifest.derivation}`);
  process.stdout.write(out.join('\n') + '\n\n');

  const usable = designs.filter((d) => runsNeeded(d) <= aa.length);
  for (const d of designs.filter((x) => !usable.includes(x))) process.stderr.write(`[gate-power] design ${designLabel(d)} needs ${runsNeeded(d)} A/A runs, have ${aa.length}: skipped\n`);
  const fine = [0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1];
  const t0 = performance.now();
  const results = replay(loaded.input, {
    metric,
    gate: { alpha, power, correction: gate?.correction, scenarioThresholds: gate?.thresholds },
    designs: usable,
    thresholds,
    syntheticChanges: changes,
    fineChanges: fine,
    maxComparisons,
    seed,
    onProgress: (done, total) => process.stderr.write(`[gate-power] replayed ${done}/${total} design × threshold in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`),
  });
  const header = [
    'design (baseline vs current runs)',
    'threshold',
    'disjoint',
    'A/A false alarms',
    ...changes.map((c) => `+${(c * 100).toFixed(0)}% (synthetic)`),
    ...injected.map((g) => `cpus ${g.cpus} (${(() => {
      const m = results[0]?.injected.find((i) => i.label === g.label)?.measuredChange;
      return m == null ? '?' : `${m >= 0 ? '+' : ''}${pct(m)}`;
    })()})`),
    '80% at',
    'MDC stated',
  ];
  const rows = results.map((r: DesignResult) => [
    `${designLabel(r.design)}${designLabel(r.design) === designLabel(shipped) ? ' (shipped)' : ''}`,
    pct(r.threshold, 0),
    String(r.disjoint),
    rate(r.falseAlarms),
    ...r.synthetic.map((s) => rate(s.detected)),
    ...r.injected.map((i) => rate(i.detected)),
    r.smallestAt80 === null ? '> 100%' : `+${pct(r.smallestAt80)}`,
    r.medianMdc === null ? '—' : `+${pct(r.medianMdc)}`,
  ]);
  process.stdout.write(table(header, rows) + '\n\n');
  process.stdout.write(
    `Each figure: gate failures / comparisons. A/A: disjoint subsets of the ${aa.length} A/A runs as baseline and current (all subsets, or ${maxComparisons} seeded draws); ` +
      'synthetic: the same subsets with the current runs\' values × (1 + change); cpus …: A/A subsets vs subsets of the runs at that quota, headed by the change the quota really caused ' +
      '(geometric mean of run medians vs the A/A runs). The subsets overlap (leave-out resampling over runs): a figure rests on the runs listed above, not on the comparison count; ' +
      '"disjoint" = how many non-overlapping comparisons those runs allow — the effective number of comparisons lies between it and the count shown. ' +
      `"80% at" = smallest synthetic change caught in ≥ 80 % (grid ${fine.map((x) => x * 100).join(', ')} %); ` +
      '"MDC stated" = median of what `bench compare` printed as the minimal detectable change in those comparisons.\n',
  );
  const ship = results.filter((r) => designLabel(r.design) === designLabel(shipped));
  for (const r of ship) {
    const fa = r.falseAlarms.trials ? r.falseAlarms.hits / r.falseAlarms.trials : NaN;
    const ten = r.synthetic.find((s) => Math.abs(s.change - 0.1) < 1e-9)?.detected;
    const det = ten && ten.trials ? ten.hits / ten.trials : NaN;
    process.stdout.write(
      `\nshipped design ${designLabel(r.design)} at threshold ${pct(r.threshold, 0)}: false alarms ${rate(r.falseAlarms)} ${fa <= 0.05 ? '≤' : '>'} 5 %; ` +
        `+10 % caught ${ten ? rate(ten) : '— (add 10 to --changes)'}${ten ? ` ${det >= 0.8 ? '≥' : '<'} 80 %` : ''}; smallest change caught at 80 %: ${r.smallestAt80 === null ? '> 100 %' : pct(r.smallestAt80)}.\n`,
    );
  }
  if (f.has('json')) writeFileSync(f.str('json'), JSON.stringify({ from: resolve(from), metric, alpha, power, aaRuns: aa.length, runSd, sampleSd, results }, null, 2) + '\n');
  return 0;
}

async function doMake(args: string[]): Promise<number> {
  const f = flagReader(parseFlags(args), ['out', 'aa-runs', 'levels', 'runs-per-level', 'quotas', 'scenario', 'metric', 'max-minutes', 'run-timeout']);
  const quotas = f.has('quotas') ? f.list('quotas', '') : null;
  if (quotas && quotas.some((q) => !(q > 0))) throw new UsageError('--quotas must be positive CPU counts');
  const scenarioFile = f.str('scenario', join(ROOT, 'scenarios', 'gate-smoke.yaml'));
  if (!existsSync(scenarioFile)) throw new UsageError(`--scenario ${scenarioFile}: no such file`);
  const levels = f.list('levels', '5,10,20').map((v) => v / 100);
  const problem = makeOptionsProblem({ scenarioFile, quotas, levels }, parseScenario(readFileSync(scenarioFile, 'utf8'), scenarioFile).platforms.map((p) => p.kind));
  if (problem) throw new UsageError(problem);
  const manifest = await makeRuns({
    repoRoot: ROOT,
    scenarioFile,
    out: resolve(f.str('out')),
    aaRuns: f.int('aa-runs', 12, 2),
    runsPerLevel: f.int('runs-per-level', 4),
    levels,
    quotas,
    metric: f.str('metric', 'cold_start'),
    maxMinutes: f.num('max-minutes', 40, (v) => v > 0, 'a positive number of minutes'),
    runTimeout: f.num('run-timeout', 300, (v) => v > 0, 'a positive number of seconds'),
  });
  return manifest.runs.some((r) => r.ok) ? 0 : 3;
}

function doSynth(args: string[]): number {
  const f = flagReader(parseFlags(args), ['out', 'aa-runs', 'levels', 'runs-per-level', 'run-sd', 'sample-sd', 'n', 'center', 'seed', 'scenario']);
  const out = resolve(f.str('out'));
  const m = writeSyntheticRuns({
    out,
    template: FIXTURE,
    scenarioFile: f.str('scenario', join(ROOT, 'scenarios', 'gate-smoke.yaml')),
    aaRuns: f.int('aa-runs', 12, 2),
    runsPerLevel: f.int('runs-per-level', 4),
    levels: f.list('levels', '5,10,20').map((v) => v / 100),
    samplesPerRun: f.int('n', 10),
    center: f.num('center', 330, (v) => v > 0, 'positive'),
    runSd: f.num('run-sd', 5, (v) => v >= 0, '≥ 0') / 100,
    sampleSd: f.num('sample-sd', 6, (v) => v >= 0, '≥ 0') / 100,
    seed: f.int('seed', 1, 0),
  });
  process.stderr.write(`[gate-power] wrote ${m.runs.length} synthetic runs to ${out}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || rest.includes('--help')) {
    process.stdout.write(usage());
    return 0;
  }
  try {
    if (command === 'make') return await doMake(rest);
    if (command === 'replay') return doReplay(rest);
    if (command === 'synth') return doSynth(rest);
    throw new UsageError(`unknown command "${command}": make, replay or synth (see --help)`);
  } catch (err) {
    process.stderr.write(`gate-power: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 3;
  }
}

process.exitCode = await main(process.argv.slice(2));
