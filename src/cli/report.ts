import type { Command } from 'commander';
import { resolve } from 'node:path';
import { BenchError } from '../errors.js';
import { ALL_PARTS, type ReportPart } from '../report/build.js';
import { readRun } from '../results/read-run.js';
import type { CliContext } from './context.js';
import { action } from './output.js';
import { defaultReportDir, writeReport } from './write-report.js';

function parseParts(value: string): ReportPart[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(ALL_PARTS as readonly string[]).includes(p));
  if (bad.length || parts.length === 0) {
    throw new BenchError('input', `--formats: unknown format(s) ${bad.map((b) => `"${b}"`).join(', ') || '(none given)'}; expected a comma-separated list of ${ALL_PARTS.join(', ')}`);
  }
  return parts as ReportPart[];
}

export function registerReport(program: Command, _ctx: CliContext): void {
  program
    .command('report')
    .description('render charts, an HTML report, a decision report and exports from stored results (several runs: side by side)')
    .argument('<results-dir...>', 'one or more results directories, e.g. results/<run-id>')
    .option('--out <dir>', 'where the report is written (default reports/<run-id>, or reports/<id>+<id> for several runs)')
    .option('--formats <list>', `comma-separated parts: ${ALL_PARTS.join(', ')}`, ALL_PARTS.join(','))
    .addHelpText(
      'after',
      `
Writes (from the stored results only, so any past run can be re-rendered, byte for byte):
  report.html        one self-contained page: summary table, charts (inline SVG), claims, warnings, environment
  decision.md        MADR decision record with the containers-vs-VMs claims re-derived and the verdict rules
  charts/<name>.vl.json, .svg, .png   each chart's Vega-Lite spec (data inline) and its renderings
  results.json, samples.csv, summary-table.md   exports of the results model

Examples:
  $ npx bench report results/20261125-201601-cpu-resnet-a564
  $ npx bench report results/run-kvm results/run-tcg --out reports/kvm-vs-tcg
  $ npx bench report results/<run-id> --formats decision,exports

Exit codes: 0 ok · 2 not a readable results directory (or a run.json of an unreadable schema version)`,
    )
    .action(
      action(async (dirs: string[], opts: { out?: string; formats: string }) => {
        const parts = parseParts(opts.formats);
        const runs = dirs.map((d) => readRun(d));
        const out = opts.out ? resolve(opts.out) : defaultReportDir(runs);
        const written = await writeReport(runs, out, parts);
        process.stdout.write(`report: ${out}\n${written.map((w) => `  ${w}`).join('\n')}\n`);
        return 0;
      }),
    );
}
