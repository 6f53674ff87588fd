import { median as medianOfValues } from 'simple-statistics';
import type { StoredRun } from '../results/read-run.js';
import { sampleLabel, type Sample } from '../results/sample.js';
import type { MetricSummary } from '../results/run-record.js';
import { paletteFor } from './palette.js';

/** One substrate of one run: what a chart draws as one colour. */
export interface Series {
  /**
   * Unique within a report: the platform name, or "<run-id> · <platform>" when
   * several runs are compared; " [TCG]" is appended to a VM that ran emulated,
   * so every chart says so.
   */
  label: string;
  runIndex: number;
  runId: string;
  platform: string;
  kind: string;
  /** The accelerator a VM really ran with (kvm / tcg), null for containers or when unknown. */
  accel: string | null;
  color: string;
}

/** Platforms of a run in scenario order (run.json environment), then any only seen in samples. */
export function platformsOf(run: StoredRun): Array<{ platform: string; kind: string }> {
  const out = new Map<string, string>();
  for (const [name, facts] of Object.entries(run.record.environment.platforms ?? {})) {
    out.set(name, typeof facts.kind === 'string' ? facts.kind : 'unknown');
  }
  for (const s of run.record.summaries) if (!out.has(s.platform)) out.set(s.platform, s.kind);
  for (const s of run.samples) if (!out.has(s.platform)) out.set(s.platform, s.kind);
  return [...out].map(([platform, kind]) => ({ platform, kind }));
}

/** Every series of every run, in run order then platform order, with its colour. Pure. */
export function seriesOf(runs: readonly StoredRun[]): Series[] {
  const several = runs.length > 1;
  const raw = runs.flatMap((run, runIndex) =>
    platformsOf(run).map(({ platform, kind }) => {
      const facts = run.record.environment.platforms?.[platform];
      const accel = facts?.accel;
      // A platform on a remote host (hosts:) is named with it: the same name on two machines is two series.
      const host = typeof facts?.host === 'string' ? facts.host : 'local';
      return {
        label: `${several ? `${run.record.runId} · ${platform}` : platform}${host === 'local' ? '' : `@${host}`}${accel === 'tcg' ? ' [TCG]' : ''}`,
        runIndex,
        runId: run.record.runId,
        platform,
        kind,
        accel: typeof accel === 'string' ? accel : null,
        host,
      };
    }),
  );
  // Runs of several hosts (a fleet's nights): each host's series together, in the order hosts first appear.
  const hostOrder = [...new Set(raw.map((s) => s.host))];
  if (hostOrder.length > 1) raw.sort((a, b) => hostOrder.indexOf(a.host) - hostOrder.indexOf(b.host));
  // The same run passed twice would give equal labels: number the repeats.
  const seen = new Map<string, number>();
  for (const s of raw) {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    if (k > 0) s.label = `${s.label} (${k + 1})`;
  }
  const colors = paletteFor(raw.map((s) => s.kind));
  return raw.map(({ host: _host, ...s }, i) => ({ ...s, color: colors[i]! }));
}

/** Measured (non-warm-up) samples of one metric series (its display name, parameters included) on one series. */
export function samplesOf(runs: readonly StoredRun[], s: Series, metric: string): Sample[] {
  return runs[s.runIndex]!.samples.filter((x) => !x.warmup && x.platform === s.platform && sampleLabel(x) === metric);
}

export function valuesOf(runs: readonly StoredRun[], s: Series, metric: string): number[] {
  return samplesOf(runs, s, metric).map((x) => x.value);
}

/** The stored summary (n, median, CI …) of a metric on a series, as run.json has it. */
export function summaryOf(runs: readonly StoredRun[], s: Series, metric: string): MetricSummary | null {
  return runs[s.runIndex]!.record.summaries.find((x) => x.metric === metric && x.platform === s.platform) ?? null;
}

export function isVmKind(kind: string): boolean {
  return kind === 'qemu' || kind === 'vagrant';
}

/** Median of values, null when there are none: simple-statistics' median (as src/stats uses), which throws on an empty list. */
export function median(values: readonly number[]): number | null {
  return values.length === 0 ? null : medianOfValues([...values]);
}
