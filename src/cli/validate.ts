import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadScenario } from '../scenario/load.js';
import { action } from './output.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a scenario file without running anything')
    .argument('<scenario...>', 'one or more scenario YAML files')
    .option('--print', 'print the scenario as the harness sees it (defaults filled, durations in ms, sizes in bytes)')
    .addHelpText(
      'after',
      `
Errors name file:line:column, the key path and what was expected, e.g.
  scenarios/x.yaml:12:13: platforms[1].memory: expected a size such as "512MiB" or "2GiB", got "2 gigs"
Exit codes: 0 valid · 2 invalid.  Editors autocomplete with schemas/scenario.schema.json.`,
    )
    .action(
      action(async (files: string[], opts: { print?: boolean }) => {
        for (const file of files) {
          const scenario = await loadScenario(resolve(file));
          if (opts.print) process.stdout.write(JSON.stringify(scenario, null, 2) + '\n');
          else
            process.stdout.write(
              `${file}: ok (${scenario.name}: ${scenario.platforms.map((p) => `${p.name}/${p.kind}`).join(', ')})\n`,
            );
        }
        return 0;
      }),
    );
}
