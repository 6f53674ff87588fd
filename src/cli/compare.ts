import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { BenchError } from '../errors.js';
import { hostDifferences } from '../gate/baseline.js';
import { compareRuns, DEFAULT_ALPHA } from '../gate/compare.js';
import { githubBenchmarkEntries } from '../gate/github-benchmark.js';
import { renderJUnit } from '../gate/junit.js';
import { renderComparisonMarkdown } from '../gate/markdown.js';
import { CORRECTIONS, type Correction } from '../gate/multiple-testing.js';
import { gateHeadline, renderComparisonTable, sensitivityLegend } from '../gate/report-table.js';
import { DEFAULT_THRESHOLDS, INFORMATIONAL_METRICS, parseThresholdFlag, type ThresholdMap } from '../gate/thresholds.js';
import { loadScenario } from '../scenario/load.js';
import type { CliContext } from './context.js';
import { gateOfRecord, parseAlpha, parsePower, parseTarget } from './gate-flags.js';
import { combineSides, readNoise, readSide, writeFileMkdir, type GateSide } from './gate-inputs.js';
import { action, paint } from './output.js';

/** Exit codes of the gate commands (documented in --help and the README). */
export const GATE_EXIT = { ok: 0, regression: 1, input: 2, infrastructure: 3 } as const;

interface CompareFlags {
  scenario?: string;
  threshold: string[];
  alpha?: string;
  power?: string;
  target?: string;
  correction?: string;
  noise?: string;
  seed: string;
  markdown?: string;
  junit?: string;
  githubBenchmark?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const defaultsHelp = DEFAULT_THRESHOLDS.map((d) => `    ${d.pattern.padEnd(22)} ${(d.threshold * 100).toFixed(0)}%  (${d.why})`).join('\n');

/** A side's own status: a run that did not complete is an infrastructure failure (exit 3), not a regression. */
export function incompleteRun(side: GateSide): string | null {
  if (side.kind !== 'run') return null;
  for (const r of side.records) {
    if (r.status === 'completed') continue;
    const why = r.error ? `${r.error.kind}: ${r.error.message}` : 'no error recorded (the run was killed or is still running)';
    return `${side.label}: run ${r.runId} did not complete (status "${r.status}"; ${why})`;
  }
  return null;
}

export function registerCompare(program: Command, _ctx: CliContext): void {
  program
    .command('compare')
    .description('compare a run (or several) with a baseline and fail on a statistically significant regression beyond a threshold (CI gate)')
    .argument('<baseline>', 'saved baseline file (one or more runs), a baselines/ directory (then baselines/<host-key>/<scenario>.json), or one results directory')
    .argument('<current...>', "results directories (results/<run-id>) of tonight's run(s), or a saved baseline file")
    .option('--scenario <file>', "take the gate block (alpha, thresholds) from this scenario file instead of the current run's")
    .option('--threshold <metric=pct>', 'threshold for a metric or pattern, e.g. startup.median=15% or "throughput@*=20%" (repeatable; beats the scenario)', collect, [])
    .option('--alpha <p>', `significance level (default: the scenario's gate.alpha, else ${DEFAULT_ALPHA})`)
    .option('--power <p>', "power at which the minimal detectable change is stated (default: the scenario's gate.power, else 0.8)")
    .option('--target <pct>', "change whose cost in runs or samples is stated, e.g. 10% (default: the scenario's gate.target_change, else 10%)")
    .option('--correction <holm|none>', 'multiple-comparison correction across gated metrics (default holm)')
    .option('--noise <file>', 'noise profile from `bench calibrate-noise` (default: embedded in the baseline, or <scenario>.noise.json next to it)')
    .option('--seed <n>', 'bootstrap seed', '1')
    .option('--markdown <file>', 'write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--junit <file>', 'write JUnit XML: one test case per metric × platform, regressions as failures')
    .option('--github-benchmark <dir>', 'write customSmallerIsBetter.json and customBiggerIsBetter.json for github-action-benchmark')
    .option('--json', 'print the comparison as JSON instead of the table')
    .addHelpText(
      'after',
      `
Runs are the unit of replication. Per metric × platform, with a baseline of
K ≥ 2 runs: a run-level t-test on the log run medians (the current run(s)
against the spread of the K baseline run medians, df = K + runs − 2), so a
host whose runs shift as a whole does not fail the gate; it also tests metrics
with one reading per run. With a single baseline run the spread between runs is
unknown: the run-to-run SD of a noise profile (\`bench calibrate-noise\`) is
used where it has the metric, else the within-run Mann–Whitney U test on the
samples with a warning that it is optimistic.
A REGRESSION needs both: p < alpha (Holm-adjusted across the gated metrics, so
the chance that a run with no real change fails the gate stays ≤ alpha) AND a
change beyond the metric's threshold in its bad direction (slower, larger; or
lower throughput@…, max_rate@…, density_max_instances). A significant change
smaller than the threshold is reported, not failed.

MDC: for every metric, the smallest change the gate catches with --power
(α split over the gated metrics, threshold included) for the baseline at hand,
and what it would take to catch --target: more baseline runs, more current
runs per night, or more samples per run.

Thresholds: --threshold flags > the scenario's gate.thresholds > defaults:
${defaultsHelp}
  Informational (shown, never gate unless named): ${INFORMATIONAL_METRICS.join(', ')}.
  A run-level test carries the run-to-run drift itself, so the threshold is only
  the smallest change worth failing; in the within-run fallback it is never
  below a noise profile's spread (max − min)/median of that metric.

With a single baseline run, metrics with one reading per run (memory_*,
throughput@…, image_size, …) cannot be tested: "not testable (n=1)", never
failing — unless a noise profile has them (then tested as above).

Exit codes: 0 no regression · 1 regression found · 2 usage/input error ·
3 a run did not complete (infrastructure failure: a flake, not a regression)

Examples:
  $ npx bench compare results/20261125-195847-smoke-ab6d results/20261126-020000-smoke-1f2e
  $ npx bench compare baselines/ results/<run-id> --junit reports/gate.xml --markdown reports/gate.md
  $ npx bench compare baselines/ results/<id-1> results/<id-2> results/<id-3>   # 3 runs tonight
  $ npx bench compare baselines/ results/<run-id> --threshold cold_start.median=20% --json`,
    )
    .action(
      action(async (baselineArg: string, currentArgs: string[], opts: CompareFlags) => {
        const current = combineSides(currentArgs.map((a) => readSide(a)));
        const baseline = readSide(baselineArg, current);
        for (const side of [baseline, current]) {
          const problem = incompleteRun(side);
          if (problem) {
            process.stderr.write(`${paint(pc.red, 'error:')} ${problem}\n`);
            process.stderr.write('exit 3: infrastructure failure, not a regression — rerun the job\n');
            return GATE_EXIT.infrastructure;
          }
        }

        const gate = opts.scenario ? (await loadScenario(resolve(opts.scenario))).gate : gateOfRecord(current.records[current.records.length - 1]);
        const cli: ThresholdMap = {};
        for (const t of opts.threshold) {
          const parsed = parseThresholdFlag(t);
          if (typeof parsed === 'string') throw new BenchError('input', `--threshold ${t}: ${parsed}`);
          cli[parsed[0]] = parsed[1];
        }
        const alpha = parseAlpha(opts.alpha, gate);
        const power = parsePower(opts.power, gate);
        const target = parseTarget(opts.target, gate);
        const correction = (opts.correction ?? gate?.correction ?? 'holm') as Correction;
        if (!CORRECTIONS.includes(correction)) throw new BenchError('input', `--correction must be holm or none, got ${opts.correction}`);
        const seed = Number(opts.seed);
        if (!Number.isInteger(seed)) throw new BenchError('input', `--seed must be an integer, got ${opts.seed}`);
        const noise = readNoise(opts.noise, baseline);

        const warnings: string[] = [];
        if (baseline.hostKey !== current.hostKey) {
          warnings.push(
            `different hosts (${baseline.hostKey} vs ${current.hostKey}: ${hostDifferences(baseline.host, current.host).join(', ')}): numbers from different machines are not comparable; keep one baseline per host`,
          );
        }
        if (baseline.scenario !== current.scenario) warnings.push(`different scenarios: "${baseline.scenario}" vs "${current.scenario}"`);
        if (noise.source) warnings.push(`noise profile from ${noise.source}`);

        const comparison = compareRuns(baseline.runs, current.runs, {
          alpha,
          power,
          target,
          correction,
          scenarioThresholds: gate?.thresholds ?? {},
          cliThresholds: cli,
          noise: noise.entries ?? undefined,
          seed,
        });
        warnings.push(...comparison.warnings);
        if (comparison.rows.every((r) => r.verdict === 'missing')) {
          throw new BenchError('input', `${baselineArg} and ${currentArgs.join(" ")} have no metric × platform in common: nothing to compare`);
        }
        const code = comparison.regressions.length > 0 ? GATE_EXIT.regression : GATE_EXIT.ok;

        const md = renderComparisonMarkdown(comparison, { baselineLabel: baseline.label, currentLabel: current.label, warnings: warnings.filter((w) => !comparison.warnings.includes(w)) });
        if (opts.markdown) writeFileMkdir(opts.markdown, md);
        if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md + '\n');
        if (opts.junit) writeFileMkdir(opts.junit, renderJUnit(comparison, `vmbench compare ${current.scenario}`));
        if (opts.githubBenchmark) {
          const files = githubBenchmarkEntries(comparison);
          writeFileMkdir(join(opts.githubBenchmark, 'customSmallerIsBetter.json'), JSON.stringify(files.customSmallerIsBetter, null, 2) + '\n');
          writeFileMkdir(join(opts.githubBenchmark, 'customBiggerIsBetter.json'), JSON.stringify(files.customBiggerIsBetter, null, 2) + '\n');
        }

        if (opts.json) {
          process.stdout.write(
            JSON.stringify({ baseline: baseline.label, current: current.label, exitCode: code, ...comparison, warnings }, null, 2) + '\n',
          );
        } else {
          process.stdout.write(renderComparisonTable(comparison) + '\n\n');
          process.stdout.write(paint(pc.dim, sensitivityLegend(comparison)) + '\n');
          for (const w of warnings) process.stdout.write(paint(pc.yellow, `⚠ ${w}`) + '\n');
          const headline = gateHeadline(comparison);
          process.stdout.write((code === 0 ? paint(pc.green, headline) : paint(pc.red, headline)) + '\n');
        }
        if (code !== 0) process.stderr.write(`${gateHeadline(comparison)}\n`);
        return code;
      }),
    );
}
