import { resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { baselinePath, hostKeyOf, makeBaseline } from '../gate/baseline.js';
import { hostEnvironment } from '../results/environment.js';
import { readRun } from '../results/read-run.js';
import { incompleteRun, GATE_EXIT } from './compare.js';
import type { CliContext } from './context.js';
import { readBaselineFile, readNoiseProfile, sideOfRun, writeFileMkdir } from './gate-inputs.js';
import { action, paint } from './output.js';

export function registerBaseline(program: Command, ctx: CliContext): void {
  const baseline = program
    .command('baseline')
    .description('save and inspect per-host baselines for `bench compare` (baselines/<host-key>/<scenario>.json)');

  baseline
    .command('save')
    .description("save a completed run as this host's baseline for its scenario")
    .argument('<results-dir>', 'results/<run-id> of a good run')
    .option('--dir <dir>', 'baselines root', 'baselines')
    .option('--out <file>', 'write exactly this file instead of <dir>/<host-key>/<scenario>.json')
    .option('--noise <file>', 'embed this noise profile (from `bench calibrate-noise`) in the baseline')
    .addHelpText(
      'after',
      `
The host key is the first 12 hex digits of sha256 over CPU model, core count,
memory (GiB), OS and kernel release of the run's host (not the hostname, so CI
runners with random names still match). \`bench compare baselines/ results/<id>\`
picks baselines/<that run's host key>/<its scenario>.json.

Exit codes: 0 saved · 2 bad input · 3 the run did not complete (it is no baseline)

Examples:
  $ npx bench baseline save results/20261125-195847-smoke-ab6d
  $ npx bench baseline save results/<run-id> --noise baselines/<key>/smoke.noise.json
  $ npx bench baseline key      # this host's key`,
    )
    .action(
      action(async (dir: string, opts: { dir: string; out?: string; noise?: string }) => {
        const run = readRun(dir);
        const problem = incompleteRun(sideOfRun(dir, run));
        if (problem) {
          process.stderr.write(`${paint(pc.red, 'error:')} ${problem}; not saving it as a baseline\n`);
          return GATE_EXIT.infrastructure;
        }
        const noise = opts.noise ? readNoiseProfile(opts.noise) : null;
        const file = makeBaseline(run.record, run.samples, noise);
        const out = opts.out ?? baselinePath(resolve(opts.dir), file.hostKey, file.scenario);
        writeFileMkdir(out, JSON.stringify(file, null, 2) + '\n');
        process.stdout.write(`${out}\n`);
        process.stderr.write(
          `saved baseline of run ${file.runId} (scenario ${file.scenario}, host ${file.hostKey}: ${file.host.cpuModel}, ${file.host.cores} cores, ${file.host.memoryGiB} GiB, ${file.host.kernel}; ${file.samples.length} samples${noise ? ', noise floor embedded' : ''})\n`,
        );
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
        const metrics = new Map<string, number>();
        for (const s of b.samples) metrics.set(`${s.metric} (${s.platform})`, (metrics.get(`${s.metric} (${s.platform})`) ?? 0) + 1);
        process.stdout.write(
          [
            `scenario: ${b.scenario}`,
            `host: ${b.hostKey} (${b.host.cpuModel}, ${b.host.cores} cores, ${b.host.memoryGiB} GiB, ${b.host.os}, kernel ${b.host.kernel})`,
            `run: ${b.runId} (${b.runStartedAt}); saved ${b.savedAt}`,
            `noise floor: ${b.noise ? `${b.noise.length} metrics` : 'none'}`,
            ...[...metrics].map(([k, n]) => `  ${k}: n=${n}`),
          ].join('\n') + '\n',
        );
        return 0;
      }),
    );
}
