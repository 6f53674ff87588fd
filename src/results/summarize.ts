import { compareGroups, describeSamples } from '../stats/describe.js';
import type { MetricSummary, RatioRow } from './run-record.js';
import { sampleLabel, type Sample } from './sample.js';

interface Group {
  first: Sample;
  /** The series' display name: metric + parameters. */
  label: string;
  values: number[];
}

/** Measured (non-warmup) values grouped by series (metric + parameters) × platform, in first-seen order. */
function groupSamples(samples: readonly Sample[]): Group[] {
  const groups = new Map<string, Group>();
  for (const s of samples) {
    if (s.warmup) continue;
    const label = sampleLabel(s);
    const key = `${label}\u0000${s.platform}`;
    const g = groups.get(key);
    if (g) g.values.push(s.value);
    else groups.set(key, { first: s, label, values: [s.value] });
  }
  return [...groups.values()];
}

/** The identifying fields of a series row (display name, base metric, parameters). */
function seriesFields(g: Group): Pick<MetricSummary, 'metric' | 'base' | 'params'> {
  return { metric: g.label, base: g.first.metric, ...(g.first.params ? { params: g.first.params } : {}) };
}

/**
 * Per metric × platform: n, median, mean, stdev, min, max, p5/p95, the
 * bootstrap 95 % CI of the median (seeded) and flagged outliers; and, for
 * every metric, each non-container platform against the first Docker platform
 * ("VM ÷ container"): ratio of medians with its bootstrap CI and a
 * Mann–Whitney U test; and each Vagrant platform against the first QEMU
 * platform ("vagrant ÷ qemu": what Vagrant/libvirt adds over bare QEMU),
 * after the container ratios of the same metric. Pure.
 */
export function aggregateSamples(samples: readonly Sample[], seed: number): { summaries: MetricSummary[]; ratios: RatioRow[] } {
  const groups = groupSamples(samples);
  const summaries: MetricSummary[] = groups.map((g) => ({
    ...seriesFields(g),
    platform: g.first.platform,
    kind: g.first.kind,
    unit: g.first.unit,
    summary: describeSamples(g.values, { seed }),
  }));
  const ratios: RatioRow[] = [];
  const compare = (g: Group, base: Group): RatioRow => {
    // A test on one value per group says nothing (p is always 1): report none.
    const testable = base.values.length >= 2 && g.values.length >= 2;
    const c = compareGroups(base.values, g.values, { seed });
    return {
      ...seriesFields(g),
      numerator: g.first.platform,
      denominator: base.first.platform,
      ratio: c.ratio,
      ratioCI: c.ratioCI,
      p: testable ? (c.mannWhitney?.p ?? null) : null,
      test: testable && c.mannWhitney ? `Mann–Whitney U (${c.mannWhitney.method})` : null,
      cliffsDelta: testable ? (c.mannWhitney?.cliffsDelta ?? null) : null,
      significant: testable && c.significant,
    };
  };
  for (const label of new Set(groups.map((g) => g.label))) {
    const ofMetric = groups.filter((g) => g.label === label);
    const base = ofMetric.find((g) => g.first.kind === 'docker');
    if (base) {
      for (const g of ofMetric) if (g.first.kind !== 'docker') ratios.push(compare(g, base));
    }
    // What Vagrant/libvirt adds over bare QEMU: each Vagrant platform ÷ the first QEMU platform.
    const qemu = ofMetric.find((g) => g.first.kind === 'qemu');
    if (qemu) {
      for (const g of ofMetric) if (g.first.kind === 'vagrant') ratios.push(compare(g, qemu));
    }
  }
  return { summaries, ratios };
}
