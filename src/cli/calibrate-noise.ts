import { resolve } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import { hostKeyOf, noisePath, scenarioNameOf } from '../gate/baseline.js';
import { computeNoise, type NoiseProfile } from '../gate/noise.js';
import { textTable } from '../report/terminal-table.js';
import { createPlatform } from '../platforms/factory.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import { GATE_EXIT } from './compare.js';
import type { CliContext } from './context.js';
import { executeScenario, loadRunnableScenario } from './execute-scenario.js';
import { writeFileMkdir } from './gate-inputs.js';
import { action } from './output.js';
import { progressListener } from './progress.js';

interface Flags {
  runs: string;
  results: string;
  fromRuns?: string[];
  dir: string;
  out?: string;
  json?: boolean;
}

/** Runs the scenario once, the way `bench run` does (same platforms, artifact, journal); returns its results directory. */
async function runOnce(ctx: CliContext, scenarioFile: string, resultsRoot: string, signal: AbortSignal): Promise<string> {
  const docker = new Dockerode();
  const scenario = await loadRunnableScenario(scenarioFile, docker);
  const progress = progressListener();
  try {
    const platforms = scenario.platforms.map((p) => createPlatform(p, { docker, cacheDir: ctx.cacheDir }));
    const outcome = await executeScenario(ctx, { scenario, scenarioFile, resultsRoot, docker, platforms, signal, onEvent: progress.listener });
    return outcome.dir;
  } finally {
    progress.stop();
  }
}

export function registerCalibrateNoise(program: Command, ctx: CliContext): void {
  program
    .command('calibrate-noise')
    .description("run a scenario K times (A/A runs) and record each metric's run-to-run spread on this host: the noise floor for `bench compare`")
    .argument('[scenario]', 'scenario YAML file (omit with --from-runs)')
    .option('--runs <k>', 'how many identical runs (at least 2)', '5')
    .option('--results <dir>', 'where the K runs are written', 'results')
    .option('--from-runs <dirs...>', 'compute the noise floor from existing results directories instead of running')
    .option('--dir <dir>', 'baselines root', 'baselines')
    .option('--out <file>', 'write exactly this file instead of <dir>/<host-key>/<scenario>.noise.json')
    .option('--json', 'print the profile as JSON')
    .addHelpText(
      'after',
      `
For every metric × platform, the K per-run medians give
  noise floor = (max − min) / median of those K medians,
the largest change of the median seen between identical runs on this host.
\`bench compare\` picks it up from <dir>/<host-key>/<scenario>.noise.json (or
--noise, or embedded with \`bench baseline save --noise\`) and never uses a
threshold below it; metrics with one reading per run (memory, throughput, …)
are gated only when a noise floor exists. More runs give a more honest floor
(K = 5 to 10 is a good start); rerun after host changes.

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
          if (!file) throw new BenchError('usage', 'pass a scenario file, or --from-runs <dirs…>');
          const k = Number(opts.runs);
          if (!Number.isInteger(k) || k < 2) throw new BenchError('usage', `--runs must be a whole number ≥ 2, got ${opts.runs}`);
          const controller = new AbortController();
          const onSignal = (sig: NodeJS.Signals) => controller.abort(new BenchError('interrupted', `interrupted by ${sig}`));
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          try {
            for (let i = 0; i < k; i++) {
              process.stderr.write(`calibrate-noise: run ${i + 1} of ${k}\n`);
              runs.push(readRun(await runOnce(ctx, resolve(file), resolve(opts.results), controller.signal)));
            }
          } finally {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          }
        }
        if (runs.length < 2) throw new BenchError('usage', `a noise floor needs at least 2 runs, got ${runs.length}`);
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
        const profile: NoiseProfile = {
          kind: 'vmbench-noise',
          schemaVersion: 1,
          scenario: [...scenarios][0]!,
          hostKey: [...hosts][0]!,
          createdAt: new Date().toISOString(),
          runIds: runs.map((r) => r.record.runId),
          metrics: computeNoise(runs.map((r) => ({ runId: r.record.runId, samples: r.samples }))),
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
            m.relativeSpread === null ? '—' : `${(m.relativeSpread * 100).toFixed(1)}%`,
          ]);
          process.stdout.write(textTable(['metric', 'platform', 'runs', 'per-run medians', 'noise floor'], rows) + '\n');
          process.stdout.write(`noise profile: ${out}\n`);
        }
        return 0;
      }),
    );
}
