import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/build.js';
import { readRun } from '../../src/results/read-run.js';

// report.html in a real headless Chromium (Debian's package): it must load
// from file:// with no console error and no request but itself, and every
// chart must have drawn marks. A screenshot is kept as a test artefact.
const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.VMBENCH_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = join(root, '.bench', 'test-artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-report-html-'));
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function renderTo(dirs: string[], name: string): Promise<string> {
  const runs = dirs.map((d) => readRun(join(root, 'test', 'fixtures', 'runs', d)));
  const files = await renderReport(runs, ['html']);
  const html = files.find((f) => f.path === 'report.html')!;
  const path = join(tmp, `${name}.html`);
  writeFileSync(path, html.content);
  return path;
}

async function check(path: string, screenshot: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(path).href;
  await page.goto(url, { waitUntil: 'load' });
  const figures = await page.$$eval('figure.figure', (fs) =>
    fs.map((f) => ({
      id: f.id,
      svgs: f.querySelectorAll('svg').length,
      // Vega draws data marks as <g class="mark-… role-mark …"> groups of path/line/text elements (axes, legends and titles have other roles).
      marks: f.querySelectorAll('svg g.role-mark > path, svg g.role-mark > rect, svg g.role-mark > line, svg g.role-mark > text').length,
      width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
    })),
  );
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, screenshot), fullPage: true });
  await page.close();
  return { errors, requests, figures, url };
}

describe('report.html in headless Chromium', () => {
  it('cpu-resnet: loads offline with no console error, every chart has marks', async () => {
    const path = await renderTo(['20261125-201601-cpu-resnet-a564'], 'cpu-resnet');
    const r = await check(path, 'report-cpu-resnet.png');
    expect(r.errors).toEqual([]);
    expect(r.requests).toEqual([r.url]);
    expect(r.figures.map((f) => f.id)).toEqual([
      'chart-startup-phases', 'chart-cold-start', 'chart-startup', 'chart-memory-overhead', 'chart-density',
      'chart-throughput-latency', 'chart-latency-spectrum', 'chart-network-rtt', 'chart-image-size',
      'chart-capacity',
    ]);
    for (const f of r.figures) {
      expect(f.svgs, f.id).toBe(1);
      expect(f.marks, f.id).toBeGreaterThan(0);
      expect(f.width, f.id).toBeGreaterThan(200);
    }
  }, 30_000);

  it('two runs side by side (smoke + network-paths) render too', async () => {
    const path = await renderTo(['20261125-195847-smoke-ab6d', '20261125-201455-network-paths-9f2a'], 'two-runs');
    const r = await check(path, 'report-two-runs.png');
    expect(r.errors).toEqual([]);
    expect(r.requests).toEqual([r.url]);
    expect(r.figures.length).toBeGreaterThan(3);
    for (const f of r.figures) expect(f.marks, f.id).toBeGreaterThan(0);
  }, 30_000);
});
