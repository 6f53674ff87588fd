import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import { createPlatform } from '../platforms/factory.js';
import { fairnessLines } from '../report/fairness-text.js';
import { renderMarkdownSummary } from '../report/markdown-summary.js';
import { renderTerminalSummary } from '../report/terminal-summary.js';
import { renderSummaryTable } from '../report/terminal-table.js';
import { auditScenario } from '../results/fairness-inputs.js';
import { failureLine, standingFailures } from '../results/failure.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import type { Scenario } from '../scenario/schema.js';
import { collectDeadRuns } from './gc.js';
import { executeScenario, loadRunnableScenario } from './execute-scenario.js';
import { action, paint } from './output.js';
import { progressListener } from './progress.js';
import { defaultReportDir, partsFromFormats, writeReport } from './write-report.js';
import pc from 'picocolors';
import type { CliContext } from './context.js';

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a scenario: build the artifact, start it as a container and as a VM, measure, write results')
    .argument('[scenario]', 'scenario YAML file, e.g. scenarios/smoke.yaml (not with --resume)')
    .option('--resume <run-dir>', 'continue an interrupted or failed run in its own directory: same plan and seed, completed steps skipped')
    .option('--results <dir>', 'where results/<run-id>/ is written', 'results')
    .option('--json', 'print run.json to stdout at the end instead of the summary')
    .option('--full', 'also print the full metric table (every metric × platform) after the summary')
    .option('-v, --verbose', 'also show what platforms do (QEMU command lines, KVM probe, boot attempts)')
    .option('--allow-long', 'run a plan estimated at more than 24 h (refused otherwise: usually a typo)')
    .addHelpText(
      'after',
      `
What it does:
  1. validates the scenario (same checks as \`bench validate\`)
  2. builds or reuses the workload artifact (one rootfs → Docker image + VM disk)
  3. for each measurement, launches fresh instances, platforms interleaved
     (A B A B …), and times launch → ready / launch → first inference
  4. journals every sample to results/<run-id>/samples.jsonl as it is taken,
     and run.json (scenario, environment, summaries) after each step
  5. prints the answer first: an unequal-resources warning if the platforms
     did not get the same CPUs, memory, threads …, the decision and its
     sensitivity, one line per claim (figures, ratio with CI, verdict), the
     capacity projection, then the warnings; --full adds the metric table
     (always in summary.md and the report)

Examples:
  $ npx bench run scenarios/smoke.yaml
  $ npx bench run scenarios/cpu-resnet.yaml --results /tmp/results
  $ CI=1 npx bench run scenarios/smoke.yaml --json > run.json

  $ npx bench run --resume results/20261201-101500-smoke-ab12

A step that fails (an instance that never gets ready, dies, is OOM-killed, the
engine gone, a port taken …) is recorded with its category in run.json and the
run goes on; --resume retries the steps that did not complete. The start of
every run removes what dead runs left (see \`bench gc\`).

Exit codes: 0 ok · 1 substrates disagree (identity proof) · 2 bad scenario/flags ·
3 infrastructure failure (engine, VM, host), also when any step failed · 130 interrupted`,
    )
    .action(
      action(async (file: string | undefined, opts: { results: string; json?: boolean; full?: boolean; verbose?: boolean; allowLong?: boolean; resume?: string }) => {
        const docker = new Dockerode();
        const { scenario, scenarioFile, resume } = await scenarioOrResume(file, opts, docker, ctx);
        const swept = await collectDeadRuns(docker, ctx.cacheDir).catch(() => null);
        if (swept?.removed.length) process.stderr.write(`gc: removed what ${swept.removed.length} dead run(s) left (${swept.removed.map((r) => r.runId).join(', ')})\n`);
        // Before anything is built or started: what each platform will get, and every difference.
        for (const line of fairnessLines(auditScenario(scenario, undefined, os.cpus().length))) {
          process.stderr.write(`${line.startsWith('unequal') ? paint(pc.yellow, `⚠ fairness: ${line}`) : `fairness: ${line}`}\n`);
        }
        const progress = progressListener();
        const platforms = scenario.platforms.map((p) =>
          createPlatform(p, {
            docker,
            cacheDir: ctx.cacheDir,
            log: opts.verbose ? (l) => progress.listener({ type: 'info', message: l }) : undefined,
            workload: scenario.workload,
          }),
        );
        const controller = new AbortController();
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals += 1;
          if (signals === 1) {
            process.stderr.write(`\n${sig}: stopping; removing every container and VM of this run (again to force)…\n`);
            controller.abort(new BenchError('interrupted', `interrupted by ${sig}`));
          } else {
            process.exit(130);
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const outcome = await executeScenario(ctx, {
            scenario,
            scenarioFile,
            resultsRoot: resolve(opts.results),
            docker,
            platforms,
            signal: controller.signal,
            onEvent: progress.listener,
            resume,
          });
          progress.stop();
          const { record, dir } = outcome;
          const failed = standingFailures(record.failures ?? [], record.completed ?? {});
          if (scenario.report.formats.includes('markdown')) {
            writeFileSync(join(dir, 'summary.md'), renderMarkdownSummary(record));
          }
          // Reports are rendered from what was stored (exactly what `bench report results/<id>` reads back).
          const reportParts = partsFromFormats(scenario.report.formats);
          const stored = readRun(dir);
          let reportLine = '';
          if (reportParts.length) {
            const reportDir = scenario.report.out ? resolve(scenario.report.out) : defaultReportDir([stored]);
            const written = await writeReport([stored], reportDir, reportParts);
            reportLine = `report: ${reportDir}/ (${written.filter((w) => !w.startsWith('charts/')).join(', ')}${written.some((w) => w.startsWith('charts/')) ? `, charts/ (${written.filter((w) => w.startsWith('charts/')).length} files)` : ''})\n`;
          }
          if (opts.json) {
            process.stdout.write(JSON.stringify(record, null, 2) + '\n');
          } else {
            const summary = renderTerminalSummary(stored);
            process.stdout.write('\n' + summary.split('\n').map((l) => (l.startsWith('⚠') ? paint(pc.yellow, l) : l)).join('\n') + '\n\n');
            if (opts.full) process.stdout.write(renderSummaryTable(record.summaries, record.ratios) + '\n\n');
            process.stdout.write(`results: ${dir}/run.json, samples.jsonl${scenario.report.formats.includes('markdown') ? ', summary.md' : ''}\n`);
            process.stdout.write(reportLine);
            if (!opts.full) process.stdout.write(`full metric table: bench run --full${scenario.report.formats.includes('markdown') ? ', summary.md' : ''}${reportParts.includes('html') ? ', report.html' : ''}\n`);
          }
          if (failed.length) {
            process.stderr.write(paint(pc.yellow, `⚠ ${failureLine(failed)} (see failures in run.json; \`bench run --resume ${relative(process.cwd(), dir) || dir}\` retries them)\n`));
            return 3;
          }
          return 0;
        } finally {
          progress.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}

/**
 * The scenario to run: the file named, or with --resume the one stored in the
 * run's run.json (exactly what the run began with; the file may have changed since).
 */
async function scenarioOrResume(
  file: string | undefined,
  opts: { resume?: string; allowLong?: boolean },
  docker: Dockerode,
  ctx: CliContext,
): Promise<{ scenario: Scenario; scenarioFile: string; resume?: StoredRun }> {
  if (opts.resume !== undefined) {
    if (file !== undefined) throw new BenchError('usage', `give either a scenario or --resume, not both (got ${file} and --resume ${opts.resume})`);
    const stored = readRun(opts.resume, { every: true });
    const scenario = stored.record.scenario as Scenario | null;
    if (!scenario || typeof scenario !== 'object' || !Array.isArray(scenario.platforms)) {
      throw new BenchError('input', `${join(stored.dir, 'run.json')}: no scenario recorded: it cannot be resumed`);
    }
    return { scenario, scenarioFile: resolve(ctx.projectDir, stored.record.scenarioFile), resume: stored };
  }
  if (file === undefined) throw new BenchError('usage', 'missing scenario file', { hint: 'bench run scenarios/smoke.yaml, or bench run --resume results/<run-id>' });
  const scenarioFile = resolve(file);
  return { scenario: await loadRunnableScenario(scenarioFile, docker, { cacheDir: ctx.cacheDir, allowLong: opts.allowLong }), scenarioFile };
}
