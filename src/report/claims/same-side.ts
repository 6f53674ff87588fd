import { tcgPlatforms } from '../caveats.js';
import type { Claim, Verdict } from './definitions.js';
import { fmt, fmtRatio } from '../format.js';
import { summaryIn, type RunView } from '../run-view.js';
import { densityStop, TCG_CLAIM_CAVEAT } from './contrast.js';
import { describeValue, ratioOf, ratioText } from './value.js';

export interface SameSideResult {
  referenceValue: string;
  value: string;
  verdict: Verdict;
  reason: string;
  evidence: string[];
  caveats: string[];
  better: 'reference' | 'substrate' | null;
}

const GB_IN_MIB = 1e9 / 2 ** 20;

/**
 * A claim for a substrate on the same side as the reference (two containers,
 * e.g. crun beside runc, or two VMs): only that side's part of the claim
 * applies — "containers start in < 1 s" holds or not for crun on its own.
 * Claims that only state a contrast (cold start, snapshot, network) are
 * "not applicable"; the ratio to the reference is given as evidence. Pure.
 */
export function evaluateSameSide(view: RunView, claim: Claim, reference: string, substrate: string, side: 'container' | 'vm'): SameSideResult {
  const run = view.run;
  const rs = summaryIn(run, claim.metric, reference);
  const ss = summaryIn(run, claim.metric, substrate);
  const out: SameSideResult = { referenceValue: describeValue(rs), value: describeValue(ss), verdict: 'not measured', reason: '', evidence: [], caveats: [], better: null };
  if (!ss?.summary) {
    out.reason = `${claim.metric} was not measured on ${substrate}`;
    return out;
  }
  const v = ss.summary.median;
  if (rs?.summary) {
    const c = rs.summary.median;
    out.better = c === v ? null : (claim.better === 'lower' ? v < c : v > c) ? 'substrate' : 'reference';
    out.evidence.push(ratioText(ratioOf(view, claim.metric, substrate, reference), v, c, `${substrate} ÷ ${reference}`));
  }
  if (side === 'vm' && claim.tcgSensitive && tcgPlatforms(run).includes(substrate)) out.caveats.push(TCG_CLAIM_CAVEAT(substrate));
  const sideName = side === 'container' ? 'container' : 'VM';
  const judge = (ok: boolean, why: string) => {
    out.verdict = ok ? 'confirmed' : 'refuted';
    out.reason = `${why} (the ${sideName} side of the claim: ${substrate} and ${reference} are both ${sideName}s)`;
  };
  const bound = (ok: boolean, shown: string, op: [string, string], limit: string) => judge(ok, `${substrate} ${shown} ${ok ? op[0] : op[1]} ${limit}`);
  switch (claim.id) {
    case 'startup':
      if (side === 'container') bound(v <= 1000, fmt(v, 'ms'), ['≤', '>'], '1 s');
      else bound(v >= 30_000, fmt(v, 'ms'), ['≥', '<'], '30 s');
      break;
    case 'image-size':
      if (side === 'container') bound(v <= GB_IN_MIB, fmt(v, 'MiB'), ['≤', '>'], '1 GB');
      else bound(v >= GB_IN_MIB, fmt(v, 'MiB'), ['≥', '<'], '1 GB');
      break;
    case 'memory-overhead':
      if (side === 'container') bound(v <= 5, `${v.toFixed(1)} %`, ['≤', '>'], '5 %');
      else bound(v >= 5, `${v.toFixed(1)} %`, ['≥', '<'], '5 %');
      break;
    case 'density': {
      const stop = densityStop(run, substrate);
      out.evidence.push(`${substrate} stopped: ${stop.why ?? 'unknown'}${stop.detail ? ` (${stop.detail})` : ''}`);
      if (side === 'container' && v < 10 && stop.why === 'max_instances') {
        out.verdict = 'inconclusive';
        out.reason = `${substrate} reached the scenario's max_instances = ${v} with every limit still met: a lower bound, not the host's capacity`;
      } else if (side === 'container') bound(v >= 10, String(v), ['≥', '<'], '10 instances');
      else bound(v <= 9, String(v), ['≤', '>'], '9 instances');
      break;
    }
    default: {
      const r = ratioOf(view, claim.metric, substrate, reference);
      out.verdict = 'not applicable';
      out.reason = `the claim contrasts containers with VMs; ${substrate} and ${reference} are both ${sideName}s${r?.ratio != null ? ` (${substrate} ÷ ${reference} = ${fmtRatio(r.ratio)})` : ''}`;
    }
  }
  return out;
}
