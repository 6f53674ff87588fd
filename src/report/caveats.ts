import { fairnessOfRun } from '../results/fairness-inputs.js';
import { fairnessWarning } from '../results/fairness.js';
import type { StoredRun } from '../results/read-run.js';
import { sampleLabel } from '../results/sample.js';
import { isVmKind, platformsOf } from './series.js';

/** VM platforms of a run that ran under TCG software emulation (environment.platforms.<name>.accel). */
export function tcgPlatforms(run: StoredRun): string[] {
  return platformsOf(run)
    .filter(({ platform, kind }) => isVmKind(kind) && run.record.environment.platforms?.[platform]?.accel === 'tcg')
    .map((p) => p.platform);
}

export const TCG_CAVEAT =
  'ran under TCG software emulation (no KVM): its figures are emulated, typically 5–50× slower than a VM on a KVM host, and NOT representative of a VM in production';

export type WarningKind = 'fairness' | 'tcg' | 'run' | 'outlier' | 'high-cv' | 'loadgen' | 'status';

export interface ReportWarning {
  kind: WarningKind;
  runId: string;
  text: string;
}

/** Coefficient of variation above which a metric is flagged (spread too wide to trust the median alone). */
export const HIGH_CV = 0.25;

/**
 * Everything a reader must know before trusting the numbers, in a stable
 * order: a comparison on unequal resources first, then TCG emulation, then
 * the run's own warnings, outliers, high coefficients of variation and a
 * CPU-bound load generator. Pure.
 */
export function collectWarnings(runs: readonly StoredRun[]): ReportWarning[] {
  const out: ReportWarning[] = [];
  for (const run of runs) {
    const runId = run.record.runId;
    if (run.record.status !== 'completed') {
      out.push({ kind: 'status', runId, text: `run status is "${run.record.status}": results may be incomplete${run.record.error ? ` (${run.record.error.kind}: ${run.record.error.message})` : ''}` });
    }
    const unequal = fairnessWarning(fairnessOfRun(run));
    if (unequal) out.push({ kind: 'fairness', runId, text: unequal });
    for (const p of tcgPlatforms(run)) out.push({ kind: 'tcg', runId, text: `${p} ${TCG_CAVEAT}.` });
    for (const w of run.record.warnings) {
      if (/TCG software emulation/.test(w)) continue; // said above, in the report's words
      out.push({ kind: 'run', runId, text: w });
    }
    for (const s of run.record.summaries) {
      const sum = s.summary;
      // Phase timestamps vary with everything before them; their spread shows in the startup figures already.
      if (!sum || s.metric.startsWith('phase_')) continue;
      if (sum.outliers.length) {
        out.push({
          kind: 'outlier',
          runId,
          text: `${s.metric} on ${s.platform}: ${sum.outliers.length} outlier(s) flagged (modified z > 3.5), kept in every statistic: ${sum.outliers.map((o) => `${Number(o.value.toPrecision(4))} ${s.unit}`).join(', ')}`,
        });
      }
      if (sum.cv != null && sum.n >= 3 && sum.cv > HIGH_CV) {
        out.push({
          kind: 'high-cv',
          runId,
          text: `${s.metric} on ${s.platform}: high coefficient of variation ${(sum.cv * 100).toFixed(0)} % (n = ${sum.n}); run more repetitions before deciding on it`,
        });
      }
    }
    for (const x of run.samples) {
      if (!x.warmup && x.metadata.loadgen_saturated === true) {
        out.push({
          kind: 'loadgen',
          runId,
          text: `${sampleLabel(x)} on ${x.platform}: the load generator used ${String(x.metadata.loadgen_cores)} cores and may have been the bottleneck (CPU-bound)`,
        });
      }
    }
  }
  return out;
}
