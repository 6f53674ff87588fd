import { compareGroups, describeSamples } from '../stats/describe.js';
import { chooseReference, type ReferenceCandidate } from './reference.js';
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

/** The platforms of some samples in first-seen order, with the OCI runtime a sample recorded (for the default reference). */
export function sampledPlatforms(samples: readonly Sample[]): ReferenceCandidate[] {
  const out = new Map<string, ReferenceCandidate>();
  for (const s of samples) {
    const runtime = typeof s.metadata.runtime === 'string' ? s.metadata.runtime : null;
    const seen = out.get(s.platform);
    if (!seen) out.set(s.platform, { platform: s.platform, kind: s.kind, runtime });
    else if (seen.runtime == null && runtime) seen.runtime = runtime;
  }
  return [...out.values()];
}

/**
 * For every series, each platform other than the reference ÷ the reference:
 * ratio of medians with its bootstrap CI and a Mann–Whitney U test; then each
 * Vagrant platform ÷ the first QEMU platform ("what Vagrant/libvirt adds over
 * bare QEMU") unless that pair is already there. Pure, seeded.
 */
export function ratiosAgainst(samples: readonly Sample[], seed: number, reference: string | null): RatioRow[] {
  return ratioRows(groupSamples(samples), seed, reference);
}

function ratioRows(groups: readonly Group[], seed: number, reference: string | null): RatioRow[] {
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
    const base = ofMetric.find((g) => g.first.platform === reference);
    if (base) {
      for (const g of ofMetric) if (g !== base) ratios.push(compare(g, base));
    }
    const qemu = ofMetric.find((g) => g.first.kind === 'qemu');
    if (qemu && qemu !== base) {
      for (const g of ofMetric) if (g.first.kind === 'vagrant') ratios.push(compare(g, qemu));
    }
  }
  return ratios;
}

/**
 * Per metric × platform: n, median, mean, stdev, min, max, p5/p95, the
 * bootstrap 95 % CI of the median (seeded) and flagged outliers; and the
 * ratios of ratiosAgainst() against the reference — the chosen one when it
 * names a platform of these samples, else the first Docker platform on the
 * default runtime (runc), else the first Docker platform, else the first
 * platform. Pure.
 */
export function aggregateSamples(
  samples: readonly Sample[],
  seed: number,
  chosenReference?: string | null,
): { summaries: MetricSummary[]; ratios: RatioRow[]; reference: string | null } {
  const groups = groupSamples(samples);
  const summaries: MetricSummary[] = groups.map((g) => ({
    ...seriesFields(g),
    platform: g.first.platform,
    kind: g.first.kind,
    unit: g.first.unit,
    summary: describeSamples(g.values, { seed }),
  }));
  const reference = chooseReference(sampledPlatforms(samples), chosenReference);
  return { summaries, ratios: ratioRows(groups, seed, reference), reference };
}
