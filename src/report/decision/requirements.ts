import { max, mean, median, min, quantileSorted } from 'simple-statistics';
import type { StoredRun } from '../../results/read-run.js';
import type { MetricRequirement, Requirements, Statistic } from '../../scenario/requirement.js';
import { meets } from '../../scenario/requirement.js';
import { kernelOf } from '../claims/isolation.js';
import { fmt } from '../format.js';
import type { Substrate } from '../run-view.js';

/** One requirement checked on one option. */
export interface RequirementCheck {
  option: string;
  /** The requirement as written ("isolation: own-kernel", "cold_start_p95: <= 2s"). */
  requirement: string;
  met: boolean;
  /** The measured figure against the limit, or why it cannot be shown. */
  detail: string;
}

function statistic(values: number[], stat: Statistic): number {
  switch (stat) {
    case 'median':
      return median(values);
    case 'mean':
      return mean(values);
    case 'min':
      return min(values);
    case 'max':
      return max(values);
    case 'p95':
    case 'p5':
      return quantileSorted([...values].sort((a, b) => a - b), stat === 'p95' ? 0.95 : 0.05);
  }
}

function paramsMatch(have: Record<string, string | number> | undefined, want: Record<string, number> | undefined): boolean {
  const h = have ?? {};
  const w = want ?? {};
  const keys = new Set([...Object.keys(h), ...Object.keys(w)]);
  // The memory phase (load/ksm) is a different reading of the same metric: a plain requirement means the idle one.
  for (const k of keys) if (h[k] !== w[k]) return false;
  return true;
}

function loadText(r: MetricRequirement): string {
  const p = r.params ?? {};
  if (p.rate !== undefined) return ` at ${p.rate} req/s`;
  if (p.connections !== undefined) return ` at ${p.connections} connections`;
  if (p.neighbors !== undefined) return ` with ${p.neighbors} neighbours`;
  return '';
}

/** A metric requirement on one option, from the option's measured samples. */
export function checkMetric(run: StoredRun, option: string, r: MetricRequirement): RequirementCheck {
  const requirement = `${r.key}: ${r.text}`;
  const values = run.samples.filter((s) => !s.warmup && s.platform === option && s.metric === r.metric && paramsMatch(s.params, r.params)).map((s) => s.value);
  const what = `${r.metric}${r.statistic === 'median' ? '' : ` ${r.statistic}`}${loadText(r)}`;
  if (values.length === 0) {
    const level = r.params && run.samples.some((s) => !s.warmup && s.platform === option && s.metric === 'throughput' && paramsMatch(s.params, r.params));
    return {
      option,
      requirement,
      met: false,
      detail: level
        ? `${what}: no successful request at that load on ${option}, so it cannot be shown to hold`
        : `${what} was not measured on ${option}, so it cannot be shown to hold`,
    };
  }
  const v = statistic(values, r.statistic);
  const ok = meets(v, r);
  const shown = (x: number) => fmt(x, r.unit);
  return { option, requirement, met: ok, detail: `${what} = ${shown(v)} (n = ${values.length}) ${ok ? 'meets' : 'fails'} ${r.comparison} ${shown(r.limit)}` };
}

/** Every requirement on every option, in option order then requirement order. */
export function checkRequirements(run: StoredRun, options: readonly Substrate[], reqs: Requirements): RequirementCheck[] {
  const out: RequirementCheck[] = [];
  for (const o of options) {
    if (reqs.isolation === 'own-kernel') {
      const k = kernelOf(run, o);
      out.push({
        option: o.platform,
        requirement: 'isolation: own-kernel',
        met: k.ownKernel,
        detail: `${o.platform} ${k.ownKernel ? 'runs on its own kernel' : 'shares the host kernel'} (${k.provenance})`,
      });
    }
    for (const r of reqs.metrics) out.push(checkMetric(run, o.platform, r));
  }
  return out;
}
