import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/build.js';
import { collectWarnings, tcgPlatforms } from '../../src/report/caveats.js';
import { buildCharts, missingCharts } from '../../src/report/charts/index.js';
import { CLAIMS, evaluateClaims } from '../../src/report/claims.js';
import { renderDecision } from '../../src/report/decision.js';
import { serializeCsv } from '../../src/report/export-csv.js';
import { serializeJson } from '../../src/report/export-json.js';
import { serializeMarkdown } from '../../src/report/export-markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { paletteFor } from '../../src/report/palette.js';
import { seriesOf } from '../../src/report/series.js';
import { readRun, type StoredRun } from '../../src/results/read-run.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'runs');
const SMOKE = '20261125-195847-smoke-ab6d';
const RESNET = '20261125-201601-cpu-resnet-a564';
const NETWORK = '20261125-201455-network-paths-9f2a';
const load = (...ids: string[]): StoredRun[] => ids.map((id) => readRun(join(FIXTURES, id)));
const snap = (name: string) => join(import.meta.dirname, '__snapshots__', name);

type Row = Record<string, unknown>;
/** Every inline data row of a (possibly layered / concatenated) Vega-Lite spec. */
function dataRows(spec: unknown): Row[] {
  if (Array.isArray(spec)) return spec.flatMap(dataRows);
  if (typeof spec !== 'object' || spec === null) return [];
  const o = spec as Record<string, unknown>;
  const own = (o.data as { values?: Row[] } | undefined)?.values ?? [];
  return [...own, ...['layer', 'vconcat', 'hconcat', 'spec'].flatMap((k) => (k in o ? dataRows(o[k]) : []))];
}

describe('chart specs (pure, snapshot-tested)', () => {
  for (const id of [SMOKE, RESNET, NETWORK]) {
    it(`${id}: every chart spec matches its snapshot`, async () => {
      const runs = load(id);
      for (const c of buildCharts(runs, seriesOf(runs))) {
        await expect(JSON.stringify(c.spec, null, 2) + '\n').toMatchFileSnapshot(snap(`${id}/${c.id}.vl.json`));
      }
    });
  }

  it('the cold-start chart holds every measured cold_start sample, warm-ups excluded', () => {
    const runs = load(RESNET);
    const chart = buildCharts(runs, seriesOf(runs)).find((c) => c.id === 'cold-start')!;
    // The box and the dots layers share one data array: count each row once.
    const drawn = [...new Set(dataRows(chart.spec))].filter((r) => 'jitter' in r).map((r) => `${String(r.series)}:${String(r.value_ms)}`).sort();
    const measured = runs[0]!.samples
      .filter((s) => s.metric === 'cold_start' && !s.warmup)
      .map((s) => `${s.platform === 'vm' ? 'vm [TCG]' : s.platform}:${Number(s.value.toPrecision(6))}`)
      .sort();
    expect(measured.length).toBe(10);
    expect(drawn).toEqual(measured);
  });

  it('every chart is Vega-Lite v6 with inline data only, units in its axis titles', () => {
    const runs = load(RESNET);
    const charts = buildCharts(runs, seriesOf(runs));
    expect(charts.map((c) => c.id)).toEqual([
      'startup-phases', 'cold-start', 'startup', 'memory-overhead', 'density', 'throughput-latency', 'latency-spectrum', 'network-rtt', 'image-size',
    ]);
    for (const c of charts) {
      const text = JSON.stringify(c.spec);
      expect(c.spec.$schema).toBe('https://vega.github.io/schema/vega-lite/v6.json');
      expect(text).not.toMatch(/"url"\s*:/);
      expect(text, c.id).toMatch(/\((ms|MiB)[,)]|\(MiB\)|\(ms\)|req\/s/);
    }
  });

  it('a chart without data is not produced and is listed as not measured', () => {
    const runs = load(NETWORK);
    const series = seriesOf(runs);
    expect(buildCharts(runs, series).map((c) => c.id)).toEqual(['network-rtt', 'image-size']);
    expect(missingCharts(runs, series).map((m) => m.id)).toContain('density');
  });

  it('the density chart draws the container\'s 8 counts and states why each substrate stopped', () => {
    const runs = load(RESNET);
    const chart = buildCharts(runs, seriesOf(runs)).find((c) => c.id === 'density')!;
    const mem = dataRows(chart.spec).filter((r) => r.what === 'memory' && r.series === 'container');
    expect(mem.map((r) => r.instances)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(JSON.stringify(chart.spec)).toContain('stopped: max_instances');
    expect(JSON.stringify(chart.spec)).toContain('stopped: slo');
  });

  it('the latency spectrum comes from the HDR histograms and never claims more percentiles than requests allow', () => {
    const runs = load(RESNET);
    const chart = buildCharts(runs, seriesOf(runs)).find((c) => c.id === 'latency-spectrum')!;
    const rows = dataRows(chart.spec);
    expect(new Set(rows.map((r) => r.curve))).toEqual(new Set(['container @ c=1', 'container @ c=4']));
    for (const r of rows) expect(Number(r.inv)).toBeLessThanOrEqual(Number(r.count));
    const c1 = rows.filter((r) => r.curve === 'container @ c=1');
    const p99 = c1.find((r) => r.percentile === 99)!;
    const stored = runs[0]!.samples.find((s) => s.metric === 'latency_p99' && s.params?.connections === 1)!.value;
    expect(Math.abs(Number(p99.latency_ms) - stored) / stored).toBeLessThan(0.002);
  });
});

describe('colours', () => {
  it('are per kind, stable, and distinct for several platforms of a kind', () => {
    expect(paletteFor(['docker', 'qemu'])).toEqual(['#1f77b4', '#e6550d']);
    const many = paletteFor(['docker', 'docker', 'qemu', 'vagrant', 'qemu']);
    expect(new Set(many).size).toBe(5);
    expect(many[0]).toBe('#1f77b4');
    expect(many[2]).toBe('#e6550d');
  });

  it('several runs: labels carry the run id, every series has its own colour, TCG is in the label', () => {
    const series = seriesOf(load(SMOKE, NETWORK));
    expect(series.map((s) => s.label)).toEqual([
      `${SMOKE} · container`, `${SMOKE} · vm [TCG]`, `${NETWORK} · docker-host`, `${NETWORK} · docker-bridge`, `${NETWORK} · qemu-usernet [TCG]`,
    ]);
    expect(new Set(series.map((s) => s.color)).size).toBe(series.length);
  });
});

describe('claims', () => {
  const verdicts = (ids: string[]) => Object.fromEntries(evaluateClaims(load(...ids)).map((r) => [r.claim.id, r.verdict]));

  it('cpu-resnet: verdicts are what the numbers imply', () => {
    // startup: container 524 ms ≤ 1 s, VM 33.2 s ≥ 30 s; image: VM 341 MiB < 1 GB; memory: 4.2 % ≤ 5 %, 102 % ≥ 5 %;
    // density: container capped at max_instances = 8; cold start 88.7× (CI above 1); snapshot 22.6×; network 12.3×.
    expect(verdicts([RESNET])).toEqual({
      startup: 'confirmed', 'image-size': 'refuted', 'memory-overhead': 'confirmed', density: 'inconclusive',
      'cold-start': 'confirmed', snapshot: 'confirmed', network: 'confirmed',
    });
  });

  it('smoke: a 24.7 s VM startup refutes "30–60 s"; density was not measured', () => {
    const v = verdicts([SMOKE]);
    expect(v.startup).toBe('refuted');
    expect(v.density).toBe('not measured');
    expect(v['memory-overhead']).toBe('refuted'); // container 5.9 % > 5 %
  });

  it('network-paths: only network and image size are measured, against the first Docker platform', () => {
    const rs = evaluateClaims(load(NETWORK));
    expect(rs.every((r) => r.container === 'docker-host' && r.vm === 'qemu-usernet')).toBe(true);
    expect(Object.fromEntries(rs.map((r) => [r.claim.id, r.verdict]))).toMatchObject({ network: 'confirmed', startup: 'not measured', density: 'not measured' });
  });

  it('time claims carry the TCG caveat for an emulated VM, image size does not', () => {
    const rs = evaluateClaims(load(RESNET));
    expect(rs.find((r) => r.claim.id === 'startup')!.caveats.join()).toMatch(/TCG/);
    expect(rs.find((r) => r.claim.id === 'image-size')!.caveats).toEqual([]);
    expect(CLAIMS).toHaveLength(7);
  });
});

describe('decision.md', () => {
  for (const ids of [[SMOKE], [RESNET], [NETWORK], [SMOKE, RESNET]]) {
    it(`${ids.join(' + ')}: matches its snapshot`, async () => {
      await expect(renderDecision(load(...ids))).toMatchFileSnapshot(snap(`decision-${ids.map((i) => i.split('-').slice(2).join('-')).join('+')}.md`));
    });
  }

  it('says the VM was emulated, lists the unmeasurable rows and writes the verdict rules down', () => {
    const md = renderDecision(load(RESNET));
    expect(md).toContain('**⚠ Emulated VM.**');
    for (const t of ['Isolation level', 'Orchestration', 'Portability']) expect(md).toMatch(new RegExp(`\\| ${t} \\|.*not measured by this tool`));
    expect(md).toContain('### Verdict rules');
    for (const h of ['## Context and Problem Statement', '## Decision Drivers', '## Considered Options', '## Decision Outcome', '## Pros and Cons of the Options']) {
      expect(md).toContain(h);
    }
  });
});

describe('report.html', () => {
  const stubCharts = (runs: StoredRun[]) => buildCharts(runs, seriesOf(runs)).map((c) => ({ ...c, svg: `<svg data-chart="${c.id}"></svg>` }));

  it('matches its snapshot (charts stubbed: the SVG comes from vega)', async () => {
    const runs = load(RESNET);
    await expect(renderHtml(runs, stubCharts(runs), missingCharts(runs, seriesOf(runs)))).toMatchFileSnapshot(snap('report-cpu-resnet.html'));
  });

  it('is self-contained: no fetchable http(s) reference other than xmlns and $schema strings, no script', async () => {
    const runs = load(RESNET);
    const files = await renderReport(runs, ['html']);
    const html = String(files[0]!.content);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink', 'https://vega.github.io/schema/vega-lite/v6.json']).toContain(u);
    expect(html).not.toMatch(/<script|<link |src=|@import/i);
    expect(html).toContain('id="tcg-warning"');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(9);
  });

  it('network-paths: charts without data say "not measured"', () => {
    const runs = load(NETWORK);
    const html = renderHtml(runs, stubCharts(runs), missingCharts(runs, seriesOf(runs)));
    expect(html).toContain('Cold start distribution: not measured');
    expect(html).not.toContain('data-chart="cold-start"');
  });
});

describe('exports (hyperfine-style pure serializers)', () => {
  it('CSV: one row per sample, snapshot-tested', async () => {
    const runs = load(SMOKE);
    const csv = serializeCsv(runs);
    expect(csv.trimEnd().split('\r\n')).toHaveLength(runs[0]!.samples.length + 1);
    await expect(csv).toMatchFileSnapshot(snap('samples-smoke.csv'));
  });

  it('JSON: the results model round-trips', () => {
    const runs = load(SMOKE, NETWORK);
    const parsed = JSON.parse(serializeJson(runs)) as { schemaVersion: number; runs: Array<{ record: unknown; samples: unknown[] }> };
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.runs.map((r) => r.record)).toEqual(runs.map((r) => r.record));
    expect(parsed.runs[1]!.samples).toEqual(runs[1]!.samples);
  });

  it('Markdown table: snapshot-tested', async () => {
    await expect(serializeMarkdown(load(RESNET))).toMatchFileSnapshot(snap('summary-table-cpu-resnet.md'));
  });
});

describe('renderReport', () => {
  it('is deterministic: the same runs give the same bytes (SVG and PNG included)', async () => {
    const runs = load(SMOKE);
    const a = await renderReport(runs);
    const b = await renderReport(runs);
    expect(a.map((f) => f.path)).toEqual(b.map((f) => f.path));
    a.forEach((f, i) => expect(Buffer.from(f.content).equals(Buffer.from(b[i]!.content)), f.path).toBe(true));
    expect(a.map((f) => f.path)).toContain('charts/cold-start.png');
  }, 30_000);

  it('warnings include TCG first, then the run\'s own, outliers and high CV', () => {
    const runs = load(RESNET);
    expect(tcgPlatforms(runs[0]!)).toEqual(['vm']);
    const kinds = collectWarnings(runs).map((w) => w.kind);
    expect(kinds[0]).toBe('tcg');
    expect(kinds).toContain('outlier');
    expect(kinds).toContain('high-cv');
  });
});
