import type { Command } from 'commander';
import { BenchError } from '../errors.js';
import { action } from './output.js';

/** Subcommands whose issues have not landed yet: present in --help, honest when run. */
export function registerNotYet(program: Command): void {
  program
    .command('report')
    .description('render charts, an HTML report and a decision report from a results directory (not yet implemented)')
    .argument('<results-dir>')
    .action(
      action(async () => {
        throw new BenchError('unsupported', '`bench report` is not yet implemented', {
          hint: 'each run already writes results/<id>/run.json and summary.md',
        });
      }),
    );
  program
    .command('compare')
    .description('compare a run against a baseline for CI regression gating (not yet implemented)')
    .argument('<baseline>')
    .argument('<current>')
    .action(
      action(async () => {
        throw new BenchError('unsupported', '`bench compare` is not yet implemented');
      }),
    );
}
