import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { BenchError } from '../errors.js';
import { baselinePath, baselineSourceProblems, hostKeyOf, makeBaseline } from '../gate/baseline.js';
import { hostEnvironment } from '../results/environment.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import { incompleteRun, GATE_EXIT } from './compare.js';
import type { CliContext } from './context.js';
import { runScenarioTimes } from './execute-scenario.js';
import { parseRunCount } from './gate-flags.js';
import { completedRunsUnder, readBaselineFile, readNoiseProfile, sideOfRun, writeFileMkdir } from './gate-inputs.js';
import { action, paint } from './output.js';

interface SaveFlags {
  dir: string;
  out?: string;
  noise?: string;
  runs?: string;
  results: string;
}

const DEFAULT_SCENARIO_RUNS = 5;
const isScenarioFile = (path: string) => /\.ya?ml$/i.test(path);

/**
 * The runs a baseline is saved from: K fresh runs of a scenario file, the
 * completed runs under a results root, or the run directories given; --runs K
 * keeps the K newest. A run directory that did not complete is refused (exit 3).
 */
async function sourceRuns(ctx: CliContext, sources: readonly string[], opts: SaveFlags): Promise<StoredRun[] | number> {
  const k = opts.runs === undefined ? undefined : parseRunCount(opts.runs, 1);
  if (sources.some(isScenarioFile)) {
    if (sources.length > 1) throw new BenchError('input', 'pass one scenario file (its runs are made now), or results directories — not both');
    const dirs = await runScenarioTimes(ctx, sources[0]!, opts.results, k ?? DEFAULT_SCENARIO_RUNS, 'baseline save');
    return dirs.map((d) => readRun(d));
  }
  const runs: StoredRun[] = [];
  for (const source of sources) {
    const abs = resolve(source);
    if (existsSync(abs) && statSync(abs).isDirectory() && !existsSync(join(abs, 'run.json'))) {
      runs.push(...completedRunsUnder(source, (m) => process.stderr.write(paint(pc.yellow, `⚠ ${m}`) + '\n')));
      continue;
    }
    const run = readRun(source);
    const problem = incompleteRun(sideOfRun(source, run));
    if (problem) {
      process.stderr.write(`${paint(pc.red, 'error:')} ${problem}; not saving it as a baseline\n`);
      return GATE_EXIT.infrastructure;
    }
    runs.push(run);
  }
  const sorted = runs.sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
  if (k === undefined) return sorted;
  if (sorted.length < k) {
    throw new BenchError('input', `--runs ${k}: only ${sorted.length} completed run${sorted.length === 1 ? '' : 's'} found in ${sources.join(', ')}`);
  }
  return sorted.slice(sorted.length - k);
}

export function registerBaseline(program: Command, ctx: CliContext): void {
  const baseline = program
    .command('baseline')
    .description('save and inspect per-host baselines for `bench compare` (baselines/<host-key>/<scenario>.json)');

  baseline
    .command('save')
    .description("save completed runs as this host's baseline for their scenario (several runs: the gate can tell run-to-run drift from a change)")
    .argument('<source...>', 'results/<run-id> directories, a results root (its completed runs), or a scenario file (then --runs K runs are made now)')
    .option('--runs <k>', `how many runs the baseline holds: the K newest of the sources, or K fresh runs of a scenario file (default ${DEFAULT_SCENARIO_RUNS} for a scenario; all runs given otherwise)`)
    .option('--results <dir>', 'where the runs of a scenario file are written', 'results')
    .option('--dir <dir>', 'baselines root', 'baselines')
    .option('--out <file>', 'write exactly this file instead of <dir>/<host-key>/<scenario>.json')
    .option('--noise <file>', 'embed this noise profile (from `bench calibrate-noise`) in the baseline')
    .addHelpText(
      'after',
      `
A baseline holds one or more runs of one scenario on one host. With K ≥ 2 runs,
\`bench compare\` tests the current run's median against the spread of the K
baseline run medians (a run-level t-test), so a host whose runs shift as a whole
does not fail the gate; with one run it can only fall back to a noise profile.
More runs lower the minimal detectable change that \`compare\` prints; 5–10 is a
good start. Runs spread over several nights also capture night-to-night drift.

The host key is the first 12 hex digits of sha256 over CPU model, core count,
memory (GiB), OS and kernel release of the run's host (not the hostname, so CI
runners with random names still match). \`bench compare baselines/ results/<id>\`
picks baselines/<that run's host key>/<its scenario>.json.

Exit codes: 0 saved · 2 bad input · 3 a run did not complete (it is no baseline)

Examples:
  $ npx bench baseline save scenarios/gate-smoke.yaml --runs 5      # make 5 runs now and save them
  $ npx bench baseline save results/ --runs 10                      # the 10 newest completed runs under results/
  $ npx bench baseline save results/<id-1> results/<id-2> results/<id-3>
  $ npx bench baseline save results/<run-id> --noise baselines/<key>/gate-smoke.noise.json
  $ npx bench baseline key      # this host's key`,
    )
    .action(
      action(async (sources: string[], opts: SaveFlags) => {
        const runs = await sourceRuns(ctx, sources, opts);
        if (typeof runs === 'number') return runs;
        const problems = baselineSourceProblems(runs);
        if (problems.length > 0) throw new BenchError('input', `cannot make one baseline of ${sources.join(', ')}: ${problems.join('; ')}`);
        const noise = opts.noise ? readNoiseProfile(opts.noise) : null;
        const file = makeBaseline(runs, noise);
        const out = opts.out ?? baselinePath(resolve(opts.dir), file.hostKey, file.scenario);
        writeFileMkdir(out, JSON.stringify(file, null, 2) + '\n');
        process.stdout.write(`${out}\n`);
        const samples = file.runs.reduce((n, r) => n + r.samples.length, 0);
        process.stderr.write(
          `saved baseline of ${file.runs.length} run${file.runs.length === 1 ? '' : 's'} (${file.runs.map((r) => r.runId).join(', ')}; scenario ${file.scenario}, host ${file.hostKey}: ${file.host.cpuModel}, ${file.host.cores} cores, ${file.host.memoryGiB} GiB, ${file.host.kernel}; ${samples} samples${noise ? ', noise floor embedded' : ''})\n`,
        );
        if (file.runs.length === 1) {
          process.stderr.write(
            paint(pc.yellow, '⚠ a single run: `bench compare` cannot tell run-to-run drift from a change with it; save several (--runs 5) or add a noise profile') + '\n',
          );
        }
        return 0;
      }),
    );

  baseline
    .command('key')
    .description("print this host's baseline key (the directory under baselines/)")
    .action(
      action(async () => {
        process.stdout.write(hostKeyOf(hostEnvironment(ctx.projectDir, ctx.version)) + '\n');
        return 0;
      }),
    );

  baseline
    .command('show')
    .description('describe a saved baseline file')
    .argument('<file>')
    .option('--json', 'print the file')
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const b = readBaselineFile(resolve(file));
        if (opts.json) {
          process.stdout.write(JSON.stringify(b, null, 2) + '\n');
          return 0;
        }
        const metrics = new Map<string, { n: number; runs: number }>();
        for (const run of b.runs) {
          const seen = new Set<string>();
          for (const s of run.samples) {
            const key = `${s.metric} (${s.platform})`;
            const m = metrics.get(key) ?? { n: 0, runs: 0 };
            m.n += 1;
            if (!seen.has(key)) m.runs += 1;
            seen.add(key);
            metrics.set(key, m);
          }
        }
        process.stdout.write(
          [
            `scenario: ${b.scenario}`,
            `host: ${b.hostKey} (${b.host.cpuModel}, ${b.host.cores} cores, ${b.host.memoryGiB} GiB, ${b.host.os}, kernel ${b.host.kernel})`,
            `runs: ${b.runs.length} (${b.runs.map((r) => `${r.runId} ${r.startedAt}`).join('; ')}); saved ${b.savedAt}`,
            `noise floor: ${b.noise ? `${b.noise.length} metrics` : 'none'}`,
            ...[...metrics].map(([k, m]) => `  ${k}: ${m.runs} run${m.runs === 1 ? '' : 's'}, n=${m.n}`),
          ].join('\n') + '\n',
        );
        return 0;
      }),
    );
}
