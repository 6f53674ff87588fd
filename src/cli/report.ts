import type { Command } from 'commander';
import { resolve } from 'node:path';
import { BenchError } from '../errors.js';
import { ALL_PARTS, type ReportPart } from '../report/build.js';
import type { CapacityOverrides, ReportOptions } from '../report/options.js';
import { substratesOfRun } from '../report/run-view.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import { loadScenarioFile } from '../scenario/load.js';
import { parseDuration, parseSize } from '../scenario/units.js';
import type { CliContext } from './context.js';
import { action } from './output.js';
import { defaultReportDir, writeReport } from './write-report.js';

/** The `bench report` flags that shape the analysis (ratios, decision, capacity). */
interface AnalysisFlags {
  reference?: string;
  scenario?: string;
  targetRate?: string;
  sloP99?: string;
  hostCores?: string;
  hostMemory?: string;
  pricePerHour?: string;
  currency?: string;
}

function positive(flag: string, text: string, allowZero = false): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new BenchError('usage', `${flag}: expected a number ${allowZero ? 'of at least 0' : 'above 0'}, got "${text}"`);
  return v;
}

function flagged<T>(flag: string, text: string, parse: (t: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw new BenchError('usage', `${flag}: ${(err as Error).message}`);
  }
}

/**
 * Report options from flags: a scenario file's decision, capacity and
 * report.reference first (validated with file:line:column like any
 * scenario), then each flag over them. A --reference must name a platform of
 * every run.
 */
async function reportOptionsFrom(flags: AnalysisFlags, runs: readonly StoredRun[]): Promise<ReportOptions> {
  const out: ReportOptions = {};
  let capacity: CapacityOverrides = {};
  if (flags.scenario) {
    const s = (await loadScenarioFile(flags.scenario)).scenario;
    if (s.decision) out.decision = s.decision;
    if (s.capacity) capacity = s.capacity;
    if (s.report.reference) out.reference = s.report.reference;
  }
  if (flags.reference) out.reference = flags.reference;
  if (out.reference) {
    for (const run of runs) {
      const names = substratesOfRun(run).map((s) => s.platform);
      if (!names.includes(out.reference)) {
        throw new BenchError('input', `--reference ${out.reference}: run ${run.record.runId} has no such platform (it has ${names.join(', ')})`);
      }
    }
  }
  const host = { ...capacity.host };
  if (flags.hostCores) host.cores = positive('--host-cores', flags.hostCores);
  if (flags.hostMemory) host.memory = flagged('--host-memory', flags.hostMemory, parseSize);
  if (flags.pricePerHour) host.price_per_hour = positive('--price-per-hour', flags.pricePerHour, true);
  if (flags.currency) host.currency = flags.currency;
  if (flags.targetRate) capacity.target_rate = positive('--target-rate', flags.targetRate);
  if (flags.sloP99) capacity.slo_p99 = flagged('--slo-p99', flags.sloP99, parseDuration);
  if (capacity.host || flags.hostCores || flags.hostMemory || flags.pricePerHour || flags.currency) capacity.host = host;
  if (Object.keys(capacity).length) out.capacity = capacity;
  return out;
}

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
    .option('--reference <platform>', 'the platform every ratio and claim is against (default: the scenario\'s report.reference, else the first docker platform on runc)')
    .option('--scenario <file>', 'take decision:, capacity: and report.reference from this scenario file instead of the run\'s own')
    .option('--target-rate <req/s>', 'capacity projection: requests per second the fleet must serve')
    .option('--slo-p99 <duration>', 'capacity projection: the p99 every instance must stay within, e.g. 200ms')
    .option('--host-cores <n>', 'capacity projection: CPU cores of one host (default: the measuring host\'s)')
    .option('--host-memory <size>', 'capacity projection: memory of one host, e.g. 256GiB (default: the measuring host\'s)')
    .option('--price-per-hour <price>', 'capacity projection: what one host costs per hour (gives cost per million inferences)')
    .option('--currency <unit>', 'the unit of --price-per-hour (default USD)')
    .addHelpText(
      'after',
      `
Writes (from the stored results only, so any past run can be re-rendered, byte for byte):
  report.html        one self-contained page: summary table, charts (inline SVG), claims, warnings, environment
  decision.md        MADR decision record with the containers-vs-VMs claims re-derived and the verdict rules
  charts/<name>.vl.json, .svg, .png   each chart's Vega-Lite spec (data inline) and its renderings
  results.json, samples.csv, summary-table.md   exports of the results model

The decision record weighs the scenario's decision: block (requirements, weights); --scenario
applies another file's. The capacity projection uses the scenario's capacity: block; each
flag overrides one key.

Examples:
  $ npx bench report results/20261125-201601-cpu-resnet-a564
  $ npx bench report results/<run-id> --reference gvisor
  $ npx bench report results/<run-id> --target-rate 2000 --slo-p99 200ms --host-cores 64 --host-memory 256GiB --price-per-hour 2.1
  $ npx bench report results/<run-id> --scenario scenarios/my-requirements.yaml --formats decision
  $ npx bench report results/run-kvm results/run-tcg --out reports/kvm-vs-tcg
  $ npx bench report results/<run-id> --formats decision,exports

Exit codes: 0 ok · 2 not a readable results directory (or a run.json of an unreadable schema version)`,
    )
    .action(
      action(async (dirs: string[], opts: { out?: string; formats: string } & AnalysisFlags) => {
        const parts = parseParts(opts.formats);
        const runs = dirs.map((d) => readRun(d));
        const options = await reportOptionsFrom(opts, runs);
        const out = opts.out ? resolve(opts.out) : defaultReportDir(runs);
        const written = await writeReport(runs, out, parts, options);
        process.stdout.write(`report: ${out}\n${written.map((w) => `  ${w}`).join('\n')}\n`);
        return 0;
      }),
    );
}
