import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/results/sample.js';
import { containerRatios, summarizeSamples } from '../../src/stats/aggregate.js';

const s = (platform: string, kind: Sample['kind'], value: number, warmup = false, metric = 'startup'): Sample => ({
  metric, value, unit: 'ms', platform, kind, rep: 0, warmup, timestamp: 0, metadata: {},
});

describe('summarizeSamples / containerRatios', () => {
  it('leaves warmups out and groups by metric × platform', () => {
    const rows = summarizeSamples([
      s('c', 'docker', 1000, true),
      s('c', 'docker', 100),
      s('c', 'docker', 300),
      s('vm', 'qemu', 5000),
      s('vm', 'qemu', 7000),
      s('vm', 'qemu', 1, false, 'cold_start'),
    ]);
    const c = rows.find((r) => r.platform === 'c' && r.metric === 'startup')!;
    expect(c.summary).toMatchObject({ n: 2, median: 200, max: 300 });
    const ratios = containerRatios(rows);
    expect(ratios).toEqual([{ metric: 'startup', numerator: 'vm', denominator: 'c', ratio: 30 }]);
  });
});
