import type { StoredRun } from '../results/read-run.js';
import { buildCharts, missingCharts } from './charts/index.js';
import type { TopLevelSpec } from 'vega-lite';
import { renderDecision } from './decision.js';
import { serializeCsv } from './exports/csv.js';
import { serializeJson } from './exports/json.js';
import { serializeMarkdown } from './exports/markdown.js';
import { renderHtml, type RenderedChart } from './html.js';
import type { ReportOptions } from './options.js';
import { renderVegaLiteSvg, svgToPng } from './render-chart.js';
import { seriesOf } from './series.js';

/** What a report can contain; `bench run` picks per scenario (report.formats), `bench report` writes all by default. */
export type ReportPart = 'html' | 'decision' | 'charts' | 'exports';

export const ALL_PARTS: readonly ReportPart[] = ['html', 'decision', 'charts', 'exports'];

/** One file of a report, path relative to the report directory. */
export interface ReportFile {
  path: string;
  content: string | Buffer;
}

/**
 * Renders a report from stored runs into files (no I/O: the CLI writes them).
 * Deterministic: the same runs give byte-identical files in a fresh process —
 * no clock, no randomness, stable order, locale-independent numbers.
 *
 * - html: report.html (self-contained, inline SVG)
 * - decision: decision.md (MADR + claims)
 * - charts: charts/<id>.vl.json, .svg, .png
 * - exports: results.json, samples.csv, summary-table.md
 */
export async function renderReport(runs: readonly StoredRun[], parts: readonly ReportPart[] = ALL_PARTS, options: ReportOptions = {}): Promise<ReportFile[]> {
  const files: ReportFile[] = [];
  const series = seriesOf(runs);
  const needCharts = parts.includes('charts') || parts.includes('html');
  const charts = needCharts ? buildCharts(runs, series, options) : [];
  const rendered: RenderedChart[] = [];
  for (const c of charts) rendered.push({ ...c, svg: await renderVegaLiteSvg(c.spec as unknown as TopLevelSpec) });
  if (parts.includes('html')) files.push({ path: 'report.html', content: renderHtml(runs, rendered, missingCharts(runs, series, charts), options) });
  if (parts.includes('decision')) files.push({ path: 'decision.md', content: renderDecision(runs, options) });
  if (parts.includes('charts')) {
    for (const c of rendered) {
      files.push({ path: `charts/${c.id}.vl.json`, content: JSON.stringify(c.spec, null, 2) + '\n' });
      files.push({ path: `charts/${c.id}.svg`, content: c.svg });
      files.push({ path: `charts/${c.id}.png`, content: svgToPng(c.svg) });
    }
  }
  if (parts.includes('exports')) {
    files.push({ path: 'results.json', content: serializeJson(runs) });
    files.push({ path: 'samples.csv', content: serializeCsv(runs) });
    files.push({ path: 'summary-table.md', content: serializeMarkdown(runs, options.reference) });
  }
  return files;
}
