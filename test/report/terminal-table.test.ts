import { describe, expect, it } from 'vitest';
import { formatMs, renderSummaryTable } from '../../src/report/terminal-table.js';
import { aggregateSamples } from '../../src/results/summarize.js';
import type { Sample } from '../../src/results/sample.js';

const sample = (metric: string, platform: string, kind: Sample['kind'], value: number, unit: Sample['unit'] = 'ms'): Sample => ({
  metric, value, unit, platform, kind, rep: 0, warmup: false, timestamp: 0, metadata: {},
});

describe('renderSummaryTable', () => {
  it('shows median, CI, range, n per platform and the ratio with its CI and p', () => {
    const samples = [
      ...[200, 250, 300, 260, 240].map((v) => sample('startup', 'container', 'docker', v)),
      ...[5000, 6000, 5500, 5200, 5800].map((v) => sample('startup', 'vm', 'qemu', v)),
      sample('image_size', 'container', 'docker', 262.25, 'MiB'),
    ];
    const { summaries, ratios } = aggregateSamples(samples, 1);
    const out = renderSummaryTable(summaries, ratios);
    expect(out).toContain('container (docker)');
    expect(out).toMatch(/startup\s+container \(docker\)\s+250 ms\s+\S+ ms – \S+ ms\s+200 ms – 300 ms\s+5/);
    expect(out).toMatch(/vm ÷ container\s+22\.00×\s+\S+× – \S+×\s+p = 0\.008/);
    expect(out).toMatch(/image_size\s+container \(docker\)\s+262\.3 MiB\s+—\s+—\s+1/);
  });

  it('formats durations with their unit', () => {
    expect(formatMs(0.5)).toBe('0.500 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(120_000)).toBe('2.0 min');
  });
});
