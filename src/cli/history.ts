import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { BenchError, messageOf } from '../errors.js';
import { hostKeyOf, hostLabelOf, scenarioNameOf } from '../gate/baseline.js';
import { DEFAULT_CHANGE_POINT_ALPHA } from '../gate/change-points.js';
import { buildHistory, digestRun, HISTORY_HEADER, historyChartSpec, historyTableRows, metricFileName, type HistoryDigest } from '../gate/history.js';
import { parsePercent } from '../scenario/gate-key.js';
import { markdownCell } from '../report/markdown-cell.js';
import { renderVegaLiteSvg } from '../report/render-chart.js';
import { formatValue, textTable } from '../report/terminal-table.js';
import { readRun, type StoredRun } from '../results/read-run.js';
import type { CliContext } from './context.js';
import { writeFileMkdir } from './gate-inputs.js';
import { action, paint } from './output.js';

interface Flags {
  scenario?: string;
  host?: string;
  allHosts?: boolean;
  out?: string;
  alpha: string;
  minChange: string;
  seed: string;
  charts: boolean;
  markdown?: string;
  json?: boolean;
  failOnChange?: boolean;
}

export function registerHistory(program: Command, _ctx: CliContext): void {
  program
    .command('history')
    .description('trend of many runs of one scenario on one host: a table, a Vega-Lite chart per metric, and change points (slow drifts)')
    .argument('<results-dir>', 'directory holding results/<run-id>/ directories (e.g. results/)')
    .option('--scenario <name>', 'only runs of this scenario (default: the scenario of the latest run)')
    .option('--host <key>', 'only runs on this host key (default: the host of the latest run)')
    .option('--all-hosts', 'every host the scenario ran on, one history per host (a fleet: nightly runs of several machines in one results/)')
    .option('--out <dir>', 'where charts go (default reports/history/<scenario>)')
    .option('--alpha <p>', 'significance of each change point', String(DEFAULT_CHANGE_POINT_ALPHA))
    .option('--min-change <pct>', 'smallest relative change of the mean reported as a change point', '5%')
    .option('--seed <n>', 'permutation seed', '1')
    .option('--no-charts', 'do not render charts')
    .option('--markdown <file>', 'write the trend table and change points as Markdown')
    .option('--json', 'print the series and change points as JSON')
    .option('--fail-on-change', 'exit 1 when a change point in the bad direction is found')
    .addHelpText(
      'after',
      `
Each run contributes one point per metric × platform: the median of its samples.
Change points: binary segmentation with a permutation test (after E-divisive
means, as MongoDB/Hunter use): the split with the largest standardised
difference of means (before it vs after it, noise scale from the MAD of
night-to-night differences) is accepted when shuffling the series (499 times)
gives one at least as strong with probability p < alpha and the mean moved by
at least --min-change; then both halves are searched again. A slow drift shows up as a change point near its middle, even when no
single night crossed the gate's threshold. Only completed runs are used.

A run's host is the machine its platforms ran on: this one, or the remote
host(s) of its hosts: section (runs driven from a laptop or a CI controller
count for the machine they measured). --all-hosts keeps every host apart:
one table, chart set (<out>/<host key>/) and Markdown section per host.

Exit codes: 0 ok · 1 a worsening change point (with --fail-on-change) · 2 bad input

Examples:
  $ npx bench history results/
  $ npx bench history results/ --scenario smoke --markdown reports/history.md
  $ npx bench history results/ --all-hosts --markdown reports/history.md`,
    )
    .action(
      action(async (dir: string, opts: Flags) => {
        const root = resolve(dir);
        if (!existsSync(root)) throw new BenchError('input', `no such directory: ${dir}`);
        const alpha = Number(opts.alpha);
        if (!(alpha > 0 && alpha < 1)) throw new BenchError('usage', `--alpha must be in (0, 1), got ${opts.alpha}`);
        const minChange = parsePercent(opts.minChange);
        if (typeof minChange === 'string') throw new BenchError('usage', `--min-change: ${minChange}`);

        // Each run is reduced to its per-series medians as it is read, so a long history never holds every sample at once.
        const completed: Array<{ digest: HistoryDigest; scenario: string; host: string; label: string }> = [];
        for (const name of readdirSync(root).sort()) {
          if (!existsSync(join(root, name, 'run.json'))) continue;
          let run: StoredRun;
          try {
            run = readRun(join(root, name));
          } catch (err) {
            process.stderr.write(paint(pc.yellow, `⚠ skipping ${name}: ${messageOf(err)}`) + '\n');
            continue;
          }
          if (run.record.status !== 'completed') continue;
          const r = run.record;
          completed.push({ digest: digestRun({ runId: r.runId, startedAt: r.startedAt, samples: run.samples, summaries: r.summaries }), scenario: scenarioNameOf(r), host: hostKeyOf(r.environment), label: hostLabelOf(r.environment) });
        }
        if (completed.length === 0) throw new BenchError('input', `${dir} holds no completed run (results/<run-id>/run.json)`);
        const latest = [...completed].sort((a, b) => a.digest.startedAt.localeCompare(b.digest.startedAt)).at(-1)!;
        const scenario = opts.scenario ?? latest.scenario;
        const hosts = opts.allHosts ? [...new Set(completed.filter((r) => r.scenario === scenario).map((r) => r.host))] : [opts.host ?? latest.host];
        const groups = hosts.map((host) => ({ host, runs: completed.filter((r) => r.scenario === scenario && r.host === host) }));
        const used = groups.reduce((a, g) => a + g.runs.length, 0);
        if (used === 0) throw new BenchError('input', `no completed run of scenario "${scenario}" on host ${hosts.join(', ')} in ${dir}`);
        if (completed.length > used) process.stderr.write(`history: ${used} runs of "${scenario}" on ${groups.length} host(s); ${completed.length - used} other runs left out\n`);
        const sections: string[] = [];
        const json: unknown[] = [];
        let worsening = 0;
        for (const { host, runs: chosen } of groups) {
          const label = chosen.at(-1)?.label ?? host;
          if (groups.length > 1 && !opts.json) process.stdout.write(`${paint(pc.bold, `host ${label} — key ${host}, ${chosen.length} runs`)}\n`);

          const series = buildHistory(
            chosen.map((r) => r.digest),
            { alpha, minRelativeChange: minChange, seed: Number(opts.seed) },
          );
          const rows = historyTableRows(series, formatValue);

          const charts: string[] = [];
          const chartDir = resolve(opts.out ?? join('reports', 'history', scenario), groups.length > 1 ? host : '');
          if (opts.charts) {
            for (const metric of [...new Set(series.map((s) => s.metric))]) {
              const spec = historyChartSpec(metric, series);
              const base = join(chartDir, metricFileName(metric));
              writeFileMkdir(`${base}.vl.json`, JSON.stringify(spec, null, 2) + '\n');
              writeFileMkdir(`${base}.svg`, await renderVegaLiteSvg(spec));
              charts.push(`${base}.svg`);
            }
          }
          sections.push([
            `## vmbench history: ${scenario} (host ${label}, key ${host}, ${chosen.length} runs)`,
            '',
            `| ${HISTORY_HEADER.join(' | ')} |`,
            `|${HISTORY_HEADER.map(() => '---').join('|')}|`,
            ...rows.map((r) => `| ${r.map(markdownCell).join(' | ')} |`),
            '',
            `Change points: binary segmentation, permutation test (p < ${alpha}), at least ${(minChange * 100).toFixed(0)} % change of the mean.`,
            '',
          ].join('\n'));
          const worse = series.flatMap((s) => s.changePoints.filter((c) => c.worse).map((c) => ({ ...c, metric: s.metric, platform: s.platform })));
          worsening += worse.length;
          if (opts.json) {
            json.push({ scenario, host, label, runs: chosen.map((r) => r.digest.runId), series, charts });
          } else {
            process.stdout.write(textTable(HISTORY_HEADER, rows) + '\n\n');
            if (charts.length > 0) process.stdout.write(`charts: ${charts.length} SVG + Vega-Lite specs in ${chartDir}\n`);
            process.stdout.write(
              worse.length > 0
                ? paint(pc.red, `worsening change points: ${worse.map((c) => `${c.metric} on ${c.platform} at ${c.runId} (${(c.relativeChange * 100).toFixed(1)}%)`).join(', ')}`) + '\n'
                : 'no worsening change point\n',
            );
          }
        }
        if (opts.markdown) writeFileMkdir(opts.markdown, sections.join('\n'));
        if (opts.json) process.stdout.write(JSON.stringify(opts.allHosts ? json : json[0], null, 2) + '\n');
        return opts.failOnChange && worsening > 0 ? 1 : 0;
      }),
    );
}
