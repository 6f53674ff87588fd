import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BenchError } from '../errors.js';
import { hostKeyOf, noisePath, scenarioNameOf } from '../gate/baseline.js';
import { computeNoise, noiseSensitivity, type NoiseEntry, type NoiseProfile } from '../gate/noise.js';
import { metricDirection, resolveThreshold } from '../gate/thresholds.js';
import { textTable } from '../report/terminal-table.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import { GATE_EXIT } from './compare.js';
import type { CliContext } from './context.js';
import { runScenarioTimes } from './execute-scenario.js';
import { gateOfRecord, parseAlpha, parsePower, parseRunCount, parseTarget } from './gate-flags.js';
import { writeFileMkdir } from './gate-inputs.js';
import { action } from './output.js';

interface Flags {
  runs: string;
  results: string;
  fromRuns?: string[];
  dir: string;
  out?: string;
  alpha?: string;
  power?: string;
  target?: string;
  json?: boolean;
}

const pct1 = (x: number) => `${(x * 100).toFixed(1)}%`;
const m1 = (k: number) => `${k} baseline runs vs 1`;

/** "n=10, 6 baseline runs, 1 run/night (MDC 9.1%)" or why no design within the limits reaches the target. */
function recommendationText(e: NoiseEntry, threshold: number, target: number): string {
  const r = e.recommendation;
  if (r === undefined) return '—';
  if (target <= threshold) return `needs threshold < ${Math.round(target * 100)}% (is ${Math.round(threshold * 100)}%)`;
  if (r === null) return 'out of reach (≤ 5 runs/night, 4× samples)';
  return `n=${r.design.samplesPerRun}/run, ${r.design.baselineRuns} baseline runs, ${r.design.currentRuns} run${r.design.currentRuns === 1 ? '' : 's'}/night (MDC ${pct1(r.mdc)})`;
}

export function registerCalibrateNoise(program: Command, ctx: CliContext): void {
  program
    .command('calibrate-noise')
    .description("run a scenario K times (A/A runs) and record each metric's run-to-run and within-run spread on this host, with the runs and repetitions a target change would need")
    .argument('[scenario]', 'scenario YAML file (omit with --from-runs)')
    .option('--runs <k>', 'how many identical runs (at least 2)', '5')
    .option('--results <dir>', 'where the K runs are written', 'results')
    .option('--from-runs <dirs...>', 'compute the noise floor from existing results directories instead of running')
    .option('--dir <dir>', 'baselines root', 'baselines')
    .option('--out <file>', 'write exactly this file instead of <dir>/<host-key>/<scenario>.noise.json')
    .option('--alpha <p>', "significance level the recommendation assumes (default: the scenario's gate.alpha, else 0.05)")
    .option('--power <p>', "power the recommendation assumes (default: the scenario's gate.power, else 0.8)")
    .option('--target <pct>', "change to catch, e.g. 10% (default: the scenario's gate.target_change, else 10%)")
    .option('--json', 'print the profile as JSON')
    .addHelpText(
      'after',
      `
For every metric × platform, the K per-run medians give
  noise floor = (max − min) / median of those K medians,
  run-to-run SD = SD of their logs, and the within-run SD of the samples.
\`bench compare\` picks the profile up from <dir>/<host-key>/<scenario>.noise.json
(or --noise, or embedded with \`bench baseline save --noise\`): when the baseline
is a single run, the run-level test takes its run-to-run SD from here.

Recommendation per metric: the cheapest design — samples per run (the
scenario's repetitions, up to 4×), baseline runs, runs per night — whose
minimal detectable change at --alpha (split over the gated metrics, Holm) and
--power, threshold included, is at most --target. Run-to-run drift is only
lowered by more runs, within-run noise by more samples. K = 5 to 10 runs give
a usable estimate; rerun after host changes.

Exit codes: 0 ok · 2 bad scenario/flags · 3 a run failed (infrastructure)

Examples:
  $ npx bench calibrate-noise scenarios/smoke.yaml --runs 5
  $ npx bench calibrate-noise --from-runs results/a results/b results/c`,
    )
    .action(
      action(async (file: string | undefined, opts: Flags) => {
        const runs: StoredRun[] = [];
        if (opts.fromRuns && opts.fromRuns.length > 0) {
          for (const dir of opts.fromRuns) runs.push(readRun(dir));
        } else {
          if (!file) throw new BenchError('input', 'pass a scenario file, or --from-runs <dirs…>');
          const k = parseRunCount(opts.runs, 2);
          for (const dir of await runScenarioTimes(ctx, file, opts.results, k, 'calibrate-noise')) runs.push(readRun(dir));
        }
        if (runs.length < 2) throw new BenchError('input', `a noise floor needs at least 2 runs, got ${runs.length}`);
        for (const r of runs) {
          if (r.record.status !== 'completed') {
            process.stderr.write(`error: run ${r.record.runId} did not complete (status "${r.record.status}")\n`);
            return GATE_EXIT.infrastructure;
          }
        }
        const scenarios = new Set(runs.map((r) => scenarioNameOf(r.record)));
        const hosts = new Set(runs.map((r) => hostKeyOf(r.record.environment)));
        if (scenarios.size > 1) throw new BenchError('input', `the runs are of different scenarios: ${[...scenarios].join(', ')}`);
        if (hosts.size > 1) throw new BenchError('input', `the runs come from different hosts (keys ${[...hosts].join(', ')}): a noise floor is per host`);
        const gate = gateOfRecord(runs[runs.length - 1]!.record);
        const alpha = parseAlpha(opts.alpha, gate);
        const power = parsePower(opts.power, gate);
        const target = parseTarget(opts.target, gate);
        const metrics = computeNoise(runs.map((r) => ({ runId: r.record.runId, samples: r.samples })));
        // Holm: a single changed metric must pass α/m, m = the gated metrics that vary at all.
        const varying = metrics.filter((m) => resolveThreshold(m.metric, gate?.thresholds).gated && (m.runSd ?? 0) > 0).length;
        const goalAlpha = (gate?.correction ?? 'holm') === 'holm' ? alpha / Math.max(1, varying) : alpha;
        for (const m of metrics) {
          const threshold = resolveThreshold(m.metric, gate?.thresholds).threshold;
          const direction = metricDirection(m.base ?? m.metric);
          const sens = noiseSensitivity(m, { alpha: goalAlpha, power, threshold, direction, target });
          if (sens) {
            m.mdc = sens.sensitivity.mdc;
            m.recommendation = sens.recommendation;
          }
        }
        const profile: NoiseProfile = {
          kind: 'vmbench-noise',
          schemaVersion: 1,
          scenario: [...scenarios][0]!,
          hostKey: [...hosts][0]!,
          createdAt: new Date().toISOString(),
          runIds: runs.map((r) => r.record.runId),
          goal: { alpha, power, target },
          metrics,
        };
        const out = opts.out ?? noisePath(resolve(opts.dir), profile.hostKey, profile.scenario);
        writeFileMkdir(out, JSON.stringify(profile, null, 2) + '\n');
        if (opts.json) {
          process.stdout.write(JSON.stringify(profile, null, 2) + '\n');
        } else {
          const rows = profile.metrics.map((m) => [
            m.metric,
            m.platform,
            String(m.runs),
            m.medians.map((x) => Number(x.toPrecision(4))).join(', ') + ` ${m.unit}`,
            m.relativeSpread === null ? '—' : pct1(m.relativeSpread),
            m.runSd == null ? '—' : pct1(m.runSd),
            m.sampleSd == null ? '—' : pct1(m.sampleSd),
            m.mdc === undefined ? '—' : `${metricDirection(m.base ?? m.metric) === 'lower' ? '+' : '−'}${pct1(m.mdc)}`,
            recommendationText(m, resolveThreshold(m.metric, gate?.thresholds).threshold, target),
          ]);
          const header = ['metric', 'platform', 'runs', 'per-run medians', 'noise floor', 'run-to-run SD', 'within-run SD', `MDC (${m1(runs.length)})`, `to detect ${Math.round(target * 100)}%`];
          process.stdout.write(textTable(header, rows) + '\n');
          process.stdout.write(
            `MDC and recommendation at α = ${alpha}${goalAlpha !== alpha ? ` (÷ ${varying} gated metrics, Holm)` : ''}, power ${power}, the scenario's thresholds.\n`,
          );
          process.stdout.write(`noise profile: ${out}\n`);
        }
        return 0;
      }),
    );
}
