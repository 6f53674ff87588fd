import type { StoredRun } from '../results/read-run.js';
import { collectWarnings, tcgPlatforms, TCG_CAVEAT } from './caveats.js';
import type { Chart } from './charts/spec.js';
import { environmentLines } from './environment-lines.js';
import { capacityHtml, claimsHtml, decisionHtml, escapeHtml, fairnessHtml, isolationHtml } from './html-sections.js';
import type { ReportOptions } from './options.js';
import { runView } from './run-view.js';
import { summaryRows } from './summary-table.js';

export { escapeHtml } from './html-sections.js';

/** A chart with its rendered SVG (rendering is async; the HTML itself is a pure function of both). */
export interface RenderedChart extends Chart {
  svg: string;
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:24px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin:0 0 4px} h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555} .tcg{background:#fdecea;border:2px solid #b2182b;color:#7a0c1e;padding:12px 16px;margin:16px 0;font-weight:bold}
.warn li{margin:2px 0} table{border-collapse:collapse;font-size:.86em;margin:8px 0} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;white-space:nowrap} tr.ratio td{color:#555}
figure{margin:24px 0;overflow-x:auto} figcaption{color:#444;font-size:.9em;max-width:900px} .chart svg{max-width:100%;height:auto}
.v-confirmed{color:#1a7f37;font-weight:bold} .v-refuted{color:#b2182b;font-weight:bold} .v-inconclusive{color:#9a6700;font-weight:bold} .v-not-measured{color:#777}
code{background:#f4f4f4;padding:0 3px} details{margin:8px 0}
`;

/**
 * report.html: one self-contained file — inline SVG charts, inline CSS, no
 * scripts and no external reference — with the TCG banner, warnings, the
 * summary table, the charts, the claims and the environment. Pure.
 */
export function renderHtml(
  runs: readonly StoredRun[],
  charts: readonly RenderedChart[],
  missing: ReadonlyArray<{ id: string; title: string; needs: string }>,
  options: ReportOptions = {},
): string {
  const h = escapeHtml;
  const ids = runs.map((r) => r.record.runId);
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  out.push(`<meta name="viewport" content="width=device-width, initial-scale=1">`);
  out.push(`<title>vmbench report: ${h(ids.join(' vs '))}</title>`, `<style>${CSS}</style>`, '</head>', '<body>');
  out.push(`<h1>vmbench report: ${h(ids.join(' vs '))}</h1>`);
  for (const run of runs) {
    const r = run.record;
    out.push(`<p class="meta">Run <code>${h(r.runId)}</code> · scenario <code>${h(r.scenarioFile)}</code> · status ${h(r.status)} · ${h(r.startedAt)}${r.finishedAt ? ` → ${h(r.finishedAt)}` : ''}</p>`);
  }
  const tcg = runs.flatMap((run) => tcgPlatforms(run).map((p) => (runs.length > 1 ? `${run.record.runId} · ${p}` : p)));
  if (tcg.length) {
    out.push(`<div class="tcg" id="tcg-warning">⚠ ${h(tcg.join(', '))} ${h(TCG_CAVEAT)}. Charts mark it “[TCG]”.</div>`);
  }
  const warnings = collectWarnings(runs);
  out.push('<h2 id="warnings">Warnings</h2>');
  if (warnings.length === 0) out.push('<p>None.</p>');
  else out.push('<ul class="warn">', ...warnings.map((w) => `<li>⚠ ${runs.length > 1 ? `[${h(w.runId)}] ` : ''}${h(w.text)}</li>`), '</ul>');

  out.push('<h2 id="decision">Decision</h2>', ...decisionHtml(runs, options));

  out.push('<h2 id="summary">Summary</h2>');
  out.push(`<p>Per metric and substrate: median, 95 % bootstrap CI of the median, min – max, n; for every other substrate, the ratio of medians to the run's reference (${h(runs.map((r) => runView(r, options.reference).reference ?? '—').join(', '))}) with its 95 % bootstrap CI and a two-sided Mann–Whitney U test (significant when p &lt; 0.05). Startup phases and per-level figures are in the collapsed tables below.</p>`);
  const rows = summaryRows(runs, options.reference);
  const table = (rs: typeof rows) => {
    const t: string[] = ['<table>', `<tr>${runs.length > 1 ? '<th>run</th>' : ''}<th>metric</th><th>substrate</th><th>n</th><th>median</th><th>95 % CI of median</th><th>min – max</th><th>ratio to reference</th><th>95 % CI of ratio</th><th>significance</th></tr>`];
    for (const r of rs) {
      t.push(
        `<tr>${runs.length > 1 ? `<td>${h(r.runId)}</td>` : ''}<td>${h(r.metric)}</td><td>${h(r.substrate)}</td><td class="num">${r.n}</td><td class="num">${h(r.median)}</td><td class="num">${h(r.ci95)}</td><td class="num">${h(r.spread)}</td><td class="num">${h(r.ratio)}</td><td class="num">${h(r.ratioCI)}</td><td>${h(r.significance)}</td></tr>`,
      );
    }
    t.push('</table>');
    return t;
  };
  const isPhase = (r: (typeof rows)[number]) => r.metric.startsWith('phase_');
  out.push(...table(rows.filter((r) => !isPhase(r) && !r.parameterized)));
  const phases = rows.filter(isPhase);
  if (phases.length) out.push('<details><summary>Startup phases (ms after the launch call)</summary>', ...table(phases), '</details>');
  const levels = rows.filter((r) => r.parameterized);
  if (levels.length) out.push('<details><summary>Per load level and per instance count (throughput, latency, density)</summary>', ...table(levels), '</details>');

  out.push('<h2 id="charts">Charts</h2>');
  out.push('<p>Each chart is also saved as <code>charts/&lt;name&gt;.vl.json</code> (Vega-Lite, data inline: restyle it in any Vega-Lite editor), <code>.svg</code> and <code>.png</code>. Colours are per substrate and the same in every chart.</p>');
  for (const c of charts) {
    out.push(`<figure id="chart-${h(c.id)}" class="figure">`, `<div class="chart">${c.svg}</div>`, `<figcaption><b>${h(c.title)}.</b> ${h(c.caption)} <span class="meta">(charts/${h(c.id)}.vl.json)</span></figcaption>`, '</figure>');
  }
  if (missing.length) {
    out.push('<p>Not measured in this run, so not drawn:</p>', '<ul>', ...missing.map((m) => `<li>${h(m.title)}: not measured (needs ${h(m.needs)})</li>`), '</ul>');
  }

  out.push('<h2 id="capacity">Capacity and cost (projection from one host\'s measurements)</h2>', ...capacityHtml(runs, options));

  const isolation = isolationHtml(runs, options.reference);
  if (isolation.length) out.push('<h2 id="isolation">Isolation, measured</h2>', ...isolation);

  out.push('<h2 id="claims">Containers vs VMs: the claims, re-derived</h2>');
  out.push('<p>Every substrate against the run\'s reference: its measured value, its ratio to the reference with the 95 % bootstrap CI, and the verdict. The verdict rules are written out in <code>decision.md</code>: a claim is confirmed when the medians show its contrast at least as strongly as claimed, refuted when either side contradicts it, inconclusive when the measurement was capped, not measured when a value is missing, not applicable when both substrates are on the same side of a contrast.</p>');
  for (const run of runs) out.push(...claimsHtml(runView(run, options.reference), runs.length > 1));

  out.push('<h2 id="fairness">Fairness: what each option got</h2>', ...fairnessHtml(runs));

  out.push('<h2 id="environment">Environment</h2>');
  for (const run of runs) out.push('<ul>', ...environmentLines(run).map((l) => `<li>${h(l)}</li>`), '</ul>');
  out.push('<p class="meta">Rendered by vmbench from the stored results only (<code>bench report</code> re-renders it identically).</p>');
  out.push('</body>', '</html>', '');
  return out.join('\n');
}
