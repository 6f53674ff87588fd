import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/results/sample.js';
import { aggregateSamples } from '../../src/results/summarize.js';

const s = (platform: string, kind: Sample['kind'], value: number, warmup = false, metric = 'startup'): Sample => ({
  metric, value, unit: 'ms', platform, kind, rep: 0, warmup, timestamp: 0, metadata: {},
});

describe('aggregateSamples', () => {
  it('leaves warmups out, groups by metric × platform, and compares each VM with the container', () => {
    const { summaries, ratios } = aggregateSamples(
      [
        s('c', 'docker', 1000, true),
        s('c', 'docker', 100),
        s('c', 'docker', 300),
        s('vm', 'qemu', 5000),
        s('vm', 'qemu', 7000),
        s('vm', 'qemu', 1, false, 'cold_start'),
      ],
      1,
    );
    const c = summaries.find((r) => r.platform === 'c' && r.metric === 'startup')!;
    expect(c.summary).toMatchObject({ n: 2, median: 200, max: 300 });
    expect(c.summary?.ci95).not.toBeNull();
    expect(ratios).toHaveLength(1);
    expect(ratios[0]).toMatchObject({ metric: 'startup', numerator: 'vm', denominator: 'c', ratio: 30 });
    expect(ratios[0]!.ratioCI!.low).toBeLessThanOrEqual(30);
    expect(ratios[0]!.p).toBeGreaterThan(0);
  });

  it('is reproducible for a given seed', () => {
    const xs = [3, 5, 4, 6, 5, 7, 4].map((v) => s('c', 'docker', v));
    expect(aggregateSamples(xs, 9)).toEqual(aggregateSamples(xs, 9));
  });
});

describe('aggregateSamples with single values', () => {
  it('gives a ratio but no test when a group has one value', () => {
    const { ratios } = aggregateSamples([s('c', 'docker', 100, false, 'image_size'), s('vm', 'qemu', 110, false, 'image_size')], 1);
    expect(ratios[0]).toMatchObject({ ratio: 1.1, ratioCI: null, p: null, test: null, significant: false });
  });
});

describe('aggregateSamples with a Vagrant platform', () => {
  it('compares Vagrant with the container and with the first QEMU platform', () => {
    const { ratios } = aggregateSamples(
      [
        s('c', 'docker', 100),
        s('c', 'docker', 100),
        s('vm', 'qemu', 1000),
        s('vm', 'qemu', 1000),
        s('vm2', 'qemu', 3000),
        s('vg', 'vagrant', 1500),
        s('vg', 'vagrant', 1500),
      ],
      1,
    );
    expect(ratios.map((r) => `${r.numerator}/${r.denominator}`)).toEqual(['vm/c', 'vm2/c', 'vg/c', 'vg/vm']);
    expect(ratios.find((r) => r.numerator === 'vg' && r.denominator === 'vm')).toMatchObject({ metric: 'startup', ratio: 1.5 });
    expect(ratios.find((r) => r.numerator === 'vg' && r.denominator === 'c')).toMatchObject({ ratio: 15 });
  });

  it('compares Vagrant with QEMU even without a container', () => {
    const { ratios } = aggregateSamples([s('vm', 'qemu', 10), s('vg', 'vagrant', 20)], 1);
    expect(ratios).toHaveLength(1);
    expect(ratios[0]).toMatchObject({ numerator: 'vg', denominator: 'vm', ratio: 2, p: null });
  });
});

describe('aggregateSamples against a chosen reference', () => {
  const xs = [
    ...[100, 110].map((v) => s('runc', 'docker', v)),
    ...[80, 90].map((v) => s('crun', 'docker', v)),
    ...[1000, 1100].map((v) => s('vm', 'qemu', v)),
  ];

  it('by default: every other platform ÷ the first Docker platform, containers included', () => {
    const { ratios, reference } = aggregateSamples(xs, 1);
    expect(reference).toBe('runc');
    expect(ratios.map((r) => `${r.numerator}/${r.denominator}`)).toEqual(['crun/runc', 'vm/runc']);
  });

  it('the chosen reference when it names a platform; the default when it does not', () => {
    expect(aggregateSamples(xs, 1, 'vm').ratios.map((r) => `${r.numerator}/${r.denominator}`)).toEqual(['runc/vm', 'crun/vm']);
    expect(aggregateSamples(xs, 1, 'nope').reference).toBe('runc');
  });

  it('the default prefers a Docker platform on runc over one whose samples say another runtime', () => {
    const tagged = xs.map((x) => (x.platform === 'runc' ? { ...x, metadata: { runtime: 'runsc' } } : x.platform === 'crun' ? { ...x, metadata: { runtime: 'runc' } } : x));
    expect(aggregateSamples(tagged, 1).reference).toBe('crun');
  });
});
