import type { StoredRun } from '../results/read-run.js';
import type { RatioRow } from '../results/run-record.js';
import { CLAIMS, type Claim, type Verdict } from './claims/definitions.js';
import { evaluateContrast } from './claims/contrast.js';
import { evaluateSameSide } from './claims/same-side.js';
import { describeValue, ratioOf } from './claims/value.js';
import { runView, summaryIn, type RunView } from './run-view.js';
import { isVmKind } from './series.js';

export { CLAIMS, ISOLATION_CLAIM, NOT_MEASURABLE, type Better, type Claim, type Verdict } from './claims/definitions.js';

/** One claim for one substrate of a run, against the run's reference. */
export interface ClaimResult {
  claim: Claim;
  runId: string;
  reference: string | null;
  /** The substrate judged against the reference. */
  substrate: string | null;
  referenceValue: string;
  /** The substrate's measured value, with unit, n and spread. */
  value: string;
  /** contrast: a container against a VM (the claim as stated); same-side: both containers or both VMs (that side's part alone). */
  mode: 'contrast' | 'same-side';
  verdict: Verdict;
  reason: string;
  /** Further measured evidence (ratio with CI, phase breakdown, p99, sizes …). */
  evidence: string[];
  caveats: string[];
  /** Which of the two measured better on the claim's metric (null when not measured or equal). */
  better: 'reference' | 'substrate' | null;
  /** substrate ÷ reference on the claim's metric. */
  ratio: RatioRow | null;
}

/** Every claim for every substrate of one run other than its reference. */
export function evaluateRunClaims(view: RunView): ClaimResult[] {
  const ref = view.substrates.find((s) => s.platform === view.reference) ?? null;
  const others = view.substrates.filter((s) => s !== ref);
  const runId = view.run.record.runId;
  if (!ref || others.length === 0) {
    return CLAIMS.map((claim) => ({
      claim, runId, reference: ref?.platform ?? null, substrate: null, referenceValue: describeValue(summaryIn(view.run, claim.metric, ref?.platform ?? null)),
      value: 'not measured', mode: 'contrast', verdict: 'not measured', reason: 'the run has only one substrate: nothing to compare', evidence: [], caveats: [], better: null, ratio: null,
    }));
  }
  return others.flatMap((s) =>
    CLAIMS.map((claim): ClaimResult => {
      const ratio = ratioOf(view, claim.metric, s.platform, ref.platform);
      const base = { claim, runId, reference: ref.platform, substrate: s.platform, ratio };
      const refVm = isVmKind(ref.kind);
      if (refVm === isVmKind(s.kind)) {
        const r = evaluateSameSide(view, claim, ref.platform, s.platform, refVm ? 'vm' : 'container');
        return { ...base, ...r, mode: 'same-side' };
      }
      const [container, vm] = refVm ? [s.platform, ref.platform] : [ref.platform, s.platform];
      const r = evaluateContrast(view, claim, container, vm);
      const mine = (side: 'container' | 'vm') => (side === 'container') === !refVm;
      return {
        ...base,
        referenceValue: refVm ? r.vmValue : r.containerValue,
        value: refVm ? r.containerValue : r.vmValue,
        mode: 'contrast',
        verdict: r.verdict,
        reason: r.reason,
        evidence: r.evidence,
        caveats: r.caveats,
        better: r.better === null ? null : mine(r.better) ? 'reference' : 'substrate',
      };
    }),
  );
}

/** Every claim for every substrate of every run, each against its run's reference (`reference` when that run has it). */
export function evaluateClaims(runs: readonly StoredRun[], reference?: string): ClaimResult[] {
  return runs.flatMap((run) => evaluateRunClaims(runView(run, reference)));
}
