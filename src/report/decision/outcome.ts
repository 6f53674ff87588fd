import type { DecisionConfig } from '../../scenario/decision.js';
import { parseRequirements } from '../../scenario/requirement.js';
import { CLAIMS, type Claim } from '../claims.js';
import { summaryIn, type RunView } from '../run-view.js';
import { checkRequirements, type RequirementCheck } from './requirements.js';

/** How one driver came out among the options still in the running. */
export interface DriverStanding {
  claim: Claim;
  weight: number;
  /** Median of the claim's metric per option measured on it. */
  medians: Array<{ option: string; median: number; unit: string }>;
  /** The single best option (null: fewer than two measured, or a tie for best). */
  winner: string | null;
}

/** The smallest change of one weight that changes the chosen option. */
export interface WeightFlip {
  claim: Claim;
  from: number;
  to: number;
  /** The flip needs a weight strictly beyond `to` (at `to` the tie still goes to the chosen option). */
  strict: boolean;
  /** The option chosen instead. */
  toOption: string;
}

export interface Outcome {
  /** Every option, in scenario order. */
  options: string[];
  checks: RequirementCheck[];
  /** Options that meet every requirement, in order. */
  remaining: string[];
  standings: DriverStanding[];
  scores: Array<{ option: string; score: number; won: Claim[] }>;
  /** Whether the decision block set any weight (else: equal weights, the default rule). */
  weighted: boolean;
  chosen: string | null;
  /** The single smallest weight change that flips the choice; null when none does (or nothing was chosen). */
  flip: WeightFlip | null;
}

/**
 * The decision among a run's substrates. Requirements first: an option that
 * fails one, or where it was not measured, is eliminated. Then every
 * measured driver (claim) goes to the single option with the best median
 * among those remaining (a tie for best goes to none), each worth its weight
 * (default 1); the highest total wins, a tie going to the earlier option in
 * scenario order — with two options and no decision block, exactly the rule
 * "the option better on more measured comparisons, the container on a tie".
 * Sensitivity: over every driver and every other option, the smallest change
 * of one weight after which that option would win. Pure.
 */
export function decideOutcome(view: RunView, decision: DecisionConfig | null): Outcome {
  const options = view.substrates.map((s) => s.platform);
  const reqs = parseRequirements(decision?.require ?? {});
  const checks = checkRequirements(view.run, view.substrates, reqs);
  const remaining = options.filter((o) => checks.every((c) => c.option !== o || c.met));
  const weights = decision?.weights ?? {};
  const weighted = Object.keys(weights).length > 0;
  const standings: DriverStanding[] = CLAIMS.map((claim) => {
    const medians = remaining.flatMap((option) => {
      const s = summaryIn(view.run, claim.metric, option);
      return s?.summary ? [{ option, median: s.summary.median, unit: s.unit }] : [];
    });
    let winner: string | null = null;
    if (medians.length >= 2) {
      const best = claim.better === 'lower' ? Math.min(...medians.map((m) => m.median)) : Math.max(...medians.map((m) => m.median));
      const atBest = medians.filter((m) => m.median === best);
      winner = atBest.length === 1 ? atBest[0]!.option : null;
    }
    return { claim, weight: weights[claim.id] ?? 1, medians, winner };
  });
  const scores = remaining.map((option) => {
    const won = standings.filter((d) => d.winner === option);
    return { option, score: won.reduce((sum, d) => sum + d.weight, 0), won: won.map((d) => d.claim) };
  });
  const measured = standings.some((d) => d.winner !== null || d.medians.length >= 2);
  let chosen: string | null = null;
  if (remaining.length === 1) chosen = remaining[0]!;
  else if (remaining.length > 1 && measured) {
    chosen = scores.reduce((best, s) => (s.score > best.score ? s : best)).option;
  }
  return { options, checks, remaining, standings, scores, weighted, chosen, flip: chosen && remaining.length > 1 ? smallestFlip(remaining, standings, scores, chosen) : null };
}

function smallestFlip(order: readonly string[], standings: readonly DriverStanding[], scores: Outcome['scores'], chosen: string): WeightFlip | null {
  const scoreOf = (o: string) => scores.find((s) => s.option === o)!.score;
  const w = scoreOf(chosen);
  let best: (WeightFlip & { change: number }) | null = null;
  for (const challenger of order) {
    if (challenger === chosen) continue;
    const gap = w - scoreOf(challenger);
    // On equal totals the earlier option wins: a challenger before the chosen one needs only to draw level.
    const strict = order.indexOf(challenger) > order.indexOf(chosen);
    for (const d of standings) {
      let candidate: (WeightFlip & { change: number }) | null = null;
      if (d.winner === challenger) candidate = { claim: d.claim, from: d.weight, to: d.weight + gap, strict, toOption: challenger, change: gap };
      else if (d.winner === chosen && (strict ? d.weight > gap : d.weight >= gap)) {
        candidate = { claim: d.claim, from: d.weight, to: d.weight - gap, strict, toOption: challenger, change: gap };
      }
      if (candidate && (!best || candidate.change < best.change)) best = candidate;
    }
  }
  if (!best) return null;
  const { change: _change, ...flip } = best;
  return flip;
}
