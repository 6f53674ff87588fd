import type { StoredRun } from '../results/read-run.js';
import { recordedReference } from '../results/recorded-scenario.js';
import { chooseReference } from '../results/reference.js';
import type { MetricSummary, RatioRow } from '../results/run-record.js';
import { ratiosAgainst } from '../results/summarize.js';
import { platformsOf } from './series.js';

/** One option of a run's decision: a platform, with what it runs on. */
export interface Substrate {
  platform: string;
  kind: string;
  /** The OCI runtime in force (runc, crun, runsc …) when the run recorded one; null for VMs or when unknown. */
  runtime: string | null;
}

/**
 * A run as the reports read it: its substrates in scenario order, the
 * reference every ratio is against, and those ratios. Built once per run and
 * reference (memoised: several renderers ask), pure.
 */
export interface RunView {
  run: StoredRun;
  reference: string | null;
  substrates: Substrate[];
  /** Every other substrate ÷ the reference, per series (and each Vagrant ÷ the first QEMU platform). */
  ratios: RatioRow[];
}

function runtimeOf(run: StoredRun, platform: string): string | null {
  const facts = run.record.environment.platforms?.[platform];
  if (typeof facts?.runtime === 'string') return facts.runtime;
  const iso = run.record.isolation?.[platform];
  if (iso && /^(runc|crun|runsc|kata)/.test(iso.runtime)) return iso.runtime.split(/\s/)[0]!;
  const s = run.samples.find((x) => x.platform === platform && typeof x.metadata.runtime === 'string');
  return s ? String(s.metadata.runtime) : null;
}

export function substratesOfRun(run: StoredRun): Substrate[] {
  return platformsOf(run).map(({ platform, kind }) => ({ platform, kind, runtime: kind === 'docker' ? runtimeOf(run, platform) : null }));
}

const cache = new WeakMap<StoredRun, Map<string, RunView>>();

/**
 * The view of a run against `chosen` (a flag), else the scenario's
 * report.reference, else the default reference. The stored ratios are used
 * when they are against that reference; otherwise they are recomputed from
 * the samples with the run's seed (records written before the reference was
 * recorded, or another reference asked for).
 */
export function runView(run: StoredRun, chosen?: string | null): RunView {
  const key = chosen ?? '';
  let byRef = cache.get(run);
  if (!byRef) cache.set(run, (byRef = new Map()));
  const hit = byRef.get(key);
  if (hit) return hit;
  const substrates = substratesOfRun(run);
  const reference = chooseReference(substrates, chosen ?? recordedReference(run.record));
  const stored = run.record.reference !== undefined && run.record.reference === reference;
  const view: RunView = {
    run,
    reference,
    substrates,
    ratios: stored ? run.record.ratios : ratiosAgainst(run.samples, run.record.plan.seed, reference),
  };
  byRef.set(key, view);
  return view;
}

/** The stored summary of a series on a platform (null when not measured). */
export function summaryIn(run: StoredRun, metric: string, platform: string | null): MetricSummary | null {
  if (!platform) return null;
  return run.record.summaries.find((s) => s.metric === metric && s.platform === platform && s.summary) ?? null;
}

/** platform ÷ the view's reference for a series, null when there is none. */
export function ratioToReference(view: RunView, metric: string, platform: string): RatioRow | null {
  return view.ratios.find((r) => r.metric === metric && r.numerator === platform && r.denominator === view.reference) ?? null;
}

/** What a substrate runs on: "docker, runsc", "qemu". */
export function substrateKind(s: Substrate): string {
  return `${s.kind}${s.runtime ? `, ${s.runtime}` : ''}`;
}

/** A substrate as a reader should see it: "gvisor (docker, runsc)", "vm (qemu)". */
export function substrateTitle(s: Substrate): string {
  return `${s.platform} (${substrateKind(s)})`;
}
