import { describe, expect, it } from 'vitest';
import { formatMs, renderSummaryTable } from '../../src/report/terminal-table.js';
import { summarize } from '../../src/stats/summary.js';

describe('renderSummaryTable', () => {
  it('shows median [min – max] n per platform and the ratio', () => {
    const out = renderSummaryTable(
      [
        { metric: 'startup', platform: 'container', kind: 'docker', unit: 'ms', summary: summarize([200, 250, 300]) },
        { metric: 'startup', platform: 'vm', kind: 'qemu', unit: 'ms', summary: summarize([5000, 6000]) },
      ],
      [{ metric: 'startup', numerator: 'vm', denominator: 'container', ratio: 5500 / 250 }],
    );
    expect(out).toContain('container (docker)');
    expect(out).toContain('250 ms [200 ms – 300 ms] n=3');
    expect(out).toContain('5.50 s [5.00 s – 6.00 s] n=2');
    expect(out).toContain('vm ÷ container');
    expect(out).toContain('22.00×');
  });

  it('formats durations with their unit', () => {
    expect(formatMs(0.5)).toBe('0.500 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(120_000)).toBe('2.0 min');
  });
});

describe('renderSummaryTable with single-sample metrics', () => {
  it('shows a lone value without a range', () => {
    const out = renderSummaryTable(
      [{ metric: 'image_size', platform: 'c', kind: 'docker', unit: 'MiB', summary: summarize([262.25]) }],
      [],
    );
    expect(out).toContain('262.3 MiB n=1');
    expect(out).not.toContain('[');
  });
});
