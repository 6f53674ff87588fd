import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { compareRuns, compareSamples } from '../../src/gate/compare.js';
import { githubBenchmarkEntries } from '../../src/gate/github-benchmark.js';
import { renderJUnit, xmlEscape } from '../../src/gate/junit.js';
import { renderComparisonMarkdown } from '../../src/gate/markdown.js';
import { gateHeadline, renderComparisonTable } from '../../src/gate/report-table.js';
import { normalSamples, samplesOf, simulatedRuns } from './samples.js';

const base = [
  ...normalSamples('cold_start', 10, 300, 5, 1),
  ...normalSamples('startup', 10, 280, 5, 2),
  ...samplesOf('throughput@c=1', [50], 'container', 'req/s'),
  ...samplesOf('memory_host', [250], 'container', 'MiB'),
];
const cur = [
  ...normalSamples('cold_start', 10, 420, 5, 3), // +40 %: regression
  ...normalSamples('startup', 10, 280, 5, 4),
  ...samplesOf('throughput@c=1', [49], 'container', 'req/s'),
  ...samplesOf('memory_host', [251], 'container', 'MiB'),
];
const comparison = compareSamples(base, cur, { iterations: 500 });

describe('gate outputs', () => {
  it('JUnit: one test case per metric × platform; the regression is a failure, n = 1 rows are skipped', () => {
    const xml = renderJUnit(comparison, 'vmbench compare x');
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite['@_tests']).toBe('4');
    expect(suite['@_failures']).toBe('1');
    expect(suite['@_skipped']).toBe('2');
    const cases = suite.testcase as Array<Record<string, unknown>>;
    expect(cases).toHaveLength(4);
    const cold = cases.find((c) => c['@_name'] === 'cold_start')!;
    expect(cold['@_classname']).toBe('vmbench.container');
    expect((cold.failure as Record<string, string>)['@_message']).toContain('regression');
    expect(cases.find((c) => c['@_name'] === 'memory_host')!.skipped).toBeDefined();
    expect(cases.find((c) => c['@_name'] === 'startup')!.failure).toBeUndefined();
    expect(String(cold['system-out'])).toMatch(/minimal detectable change: \+\d+\.\d% \(within-run only\) at 80% power/);
    expect(String(cold['system-out'])).toContain('test: samples');
    expect(xmlEscape('a<b & "c"')).toBe('a&lt;b &amp; &quot;c&quot;');
  });

  it('github-action-benchmark: one file per direction, {name, unit, value, range?, extra}', () => {
    const files = githubBenchmarkEntries(comparison);
    expect(files.customBiggerIsBetter.map((e) => e.name)).toEqual(['throughput@c=1 (container)']);
    expect(files.customBiggerIsBetter[0]!.value).toBe(49);
    const smaller = files.customSmallerIsBetter;
    expect(smaller.map((e) => e.name).sort()).toEqual(['cold_start (container)', 'memory_host (container)', 'startup (container)']);
    const cold = smaller.find((e) => e.name.startsWith('cold_start'))!;
    expect(cold.unit).toBe('ms');
    expect(cold.range).toMatch(/^± \d/);
    expect(cold.extra).toContain('verdict: regression');
    for (const e of [...smaller, ...files.customBiggerIsBetter]) expect(Object.keys(e).every((k) => ['name', 'unit', 'value', 'range', 'extra'].includes(k))).toBe(true);
  });

  it('Markdown summary and terminal table name the regression and explain the method', () => {
    const md = renderComparisonMarkdown(comparison, { baselineLabel: 'baselines/x.json', currentLabel: 'results/y', warnings: ['different hosts'] });
    expect(md).toContain('❌ REGRESSION: cold_start on container');
    expect(md).toContain('| cold_start | container |');
    expect(md).toContain('not testable (n=1)');
    expect(md).toContain('> ⚠ different hosts');
    expect(md).toContain('Mann–Whitney');
    const table = renderComparisonTable(comparison);
    expect(table).toMatch(/cold_start\s+container.*✗ regression/);
    expect(table).toMatch(/throughput@c=1\s+container.*−10%/);
    expect(table).toContain('MDC (80% power)');
    expect(table).toContain('to detect 10%');
    expect(table).toMatch(/cold_start\s+container.*\+\d+\.\d% \(within-run only\)/);
    expect(md).toContain('| MDC (80% power) |');
    expect(md).toContain('MDC = the smallest change');
    expect(md).toContain('> ⚠ the baseline is a single run');
  });

  it('a comparison of runs: the cells say how many runs each side holds and what 10 % would take', () => {
    const base = simulatedRuns(5, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 1 });
    const c = compareRuns(base, simulatedRuns(1, { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06, seed: 2 }), { cliThresholds: { cold_start: 0.05 } });
    const table = renderComparisonTable(c);
    expect(table).toMatch(/cold_start\s+container\s+\d+ ms \(5 runs, n=50\)\s+\d+ ms \(1 run, n=10\)/);
    expect(table).toMatch(/baseline \+ \d runs?\/night|baseline runs|✓/);
    expect(gateHeadline(c)).toContain('5 runs baseline vs 1 run current');
    const md = renderComparisonMarkdown(c, { baselineLabel: 'b', currentLabel: 'c', warnings: [] });
    expect(md).toContain('run-level t-test');
    expect(md).not.toContain('single run');
  });
});
