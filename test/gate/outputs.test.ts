import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { compareSamples } from '../../src/gate/compare.js';
import { githubBenchmarkEntries } from '../../src/gate/github-benchmark.js';
import { renderJUnit, xmlEscape } from '../../src/gate/junit.js';
import { renderComparisonMarkdown } from '../../src/gate/markdown.js';
import { renderComparisonTable } from '../../src/gate/report-table.js';
import { normalSamples, samplesOf } from './samples.js';

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
  });
});
