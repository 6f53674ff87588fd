import { resolve } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { loadScenarioFile } from '../scenario/load.js';
import { fallbackNotice, preflightError } from '../scenario/preflight.js';
import { gatherHostFacts } from './host-facts.js';
import type { CliContext } from './context.js';
import { action } from './output.js';
import { describeEstimate, planEstimate, refuseLongPlan } from './plan-length.js';

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a scenario file without running anything')
    .argument('<scenario...>', 'one or more scenario YAML files')
    .option('--print', 'print the scenario as the harness sees it (defaults filled, durations in ms, sizes in bytes)')
    .option('--host', 'also run the host preflight `bench run` runs: CPUs, memory and engines this host has')
    .option('--allow-long', 'accept a plan estimated at more than 24 h (refused otherwise: usually a typo)')
    .addHelpText(
      'after',
      `
Errors name file:line:column, the key path and what was expected, e.g.
  scenarios/x.yaml:12:13: platforms[1].memory: expected a size such as "512MiB" or "2GiB", got "2 gigs"
Without --host only the file is checked (the same on every machine); with
--host the scenario is also held against this host, as \`bench run\` does
before it builds or starts anything:
  scenarios/x.yaml:9:13: platforms[0].memory: expected at most 23.5GiB (all this host has), got 64GiB
Every file's plan is estimated (printed with "ok"); a plan of more than 24 h is refused
unless --allow-long (\`bench run\` refuses it too).
Exit codes: 0 valid · 2 invalid (or more than this host has, or longer than 24 h) · 3 this host lacks an engine or device.
Editors autocomplete with schemas/scenario.schema.json.`,
    )
    .action(
      action(async (files: string[], opts: { print?: boolean; host?: boolean; allowLong?: boolean }) => {
        const docker = opts.host ? new Dockerode() : null;
        for (const file of files) {
          const loaded = await loadScenarioFile(resolve(file));
          const { scenario } = loaded;
          const estimate = planEstimate(loaded, ctx.cacheDir);
          refuseLongPlan(loaded, estimate, opts.allowLong === true);
          if (docker) {
            const facts = await gatherHostFacts(scenario, docker);
            const refused = preflightError(loaded, facts);
            if (refused) throw refused;
            const notice = fallbackNotice(loaded, facts);
            if (notice) process.stderr.write(`warning: ${notice}\n`);
          }
          if (opts.print) process.stdout.write(JSON.stringify(scenario, null, 2) + '\n');
          else
            process.stdout.write(
              `${file}: ok${docker ? ' (and this host can run it)' : ''} (${scenario.name}: ${scenario.platforms.map((p) => `${p.name}/${p.kind}`).join(', ')})\n` +
                `  estimated run time ${describeEstimate(estimate)}; VM figures assume TCG emulation (a minute a boot), a KVM host is faster\n`,
            );
        }
        return 0;
      }),
    );
}
