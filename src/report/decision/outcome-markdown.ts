import { fmt } from '../format.js';
import type { Outcome, WeightFlip } from './outcome.js';

const num = (x: number) => String(Number(x.toPrecision(4)));

/** "the weight of snapshot/rollback speed above 6 (from 1)". */
export function flipText(f: WeightFlip): string {
  const up = f.to > f.from;
  const bound = f.strict ? (up ? `above ${num(f.to)}` : `below ${num(f.to)}`) : up ? `of ${num(f.to)} or more` : `of ${num(f.to)} or less`;
  return `a weight of ${f.claim.topic.toLowerCase()} (${f.claim.id}) ${bound} instead of ${num(f.from)} makes ${f.toOption} the choice`;
}

/** The sensitivity line: the smallest weight change that flips the choice, or why none does. */
export function sensitivityLine(o: Outcome): string {
  if (!o.chosen) return 'Sensitivity: nothing was chosen.';
  if (o.remaining.length === 1) return `Sensitivity: no weight can change it: ${o.chosen} is the only option that meets every requirement.`;
  if (o.flip) return `Sensitivity: the smallest change of one weight that flips the choice — ${flipText(o.flip)}.`;
  return `Sensitivity: no change of a single weight flips the choice: no other option measured best on a driver, and no one driver carries ${o.chosen}'s lead.`;
}

/** Which requirement eliminated which option, and which options meet them all. */
export function requirementLines(o: Outcome): string[] {
  if (o.checks.length === 0) return [];
  const lines = [`Requirements (${[...new Set(o.checks.map((c) => c.requirement))].join('; ')}):`, ''];
  for (const option of o.options) {
    const failed = o.checks.filter((c) => c.option === option && !c.met);
    if (failed.length) for (const c of failed) lines.push(`- ❌ **${option}** eliminated by \`${c.requirement}\`: ${c.detail}`);
    else lines.push(`- ✅ **${option}** meets every requirement: ${o.checks.filter((c) => c.option === option).map((c) => c.detail).join('; ')}`);
  }
  lines.push('');
  return lines;
}

/** "Chosen option: …, because …" with the driver tally. */
export function choiceLine(o: Outcome): string {
  if (o.remaining.length === 0) return 'No option meets every requirement, so none is chosen: relax a requirement or measure what could not be shown.';
  if (!o.chosen) return 'No outcome: none of the decision drivers was measured on two of the options that remain.';
  if (o.remaining.length === 1) {
    const out = o.options.filter((x) => x !== o.chosen);
    return `Chosen option: **${o.chosen}**, because it is the only option that meets every requirement${out.length ? ` (${out.join(', ')} eliminated, see above)` : ''}.`;
  }
  const measured = o.standings.filter((d) => d.medians.length >= 2);
  const tally = o.scores.map((s) => `${s.option}: ${s.won.map((c) => c.topic.toLowerCase()).join(', ') || 'none'}`).join('; ');
  const mine = o.scores.find((s) => s.option === o.chosen)!;
  if (!o.weighted) {
    return `Chosen option: **${o.chosen}**, because it measured best on ${mine.won.length} of ${measured.length} measured drivers, weighted equally (best on — ${tally}).`;
  }
  const total = measured.reduce((sum, d) => sum + d.weight, 0);
  const weights = o.standings.map((d) => `${d.claim.id} ${num(d.weight)}`).join(', ');
  return `Chosen option: **${o.chosen}**, because it has the highest weighted score, ${num(mine.score)} of ${num(total)} (scores: ${o.scores.map((s) => `${s.option} ${num(s.score)}`).join(', ')}; weights: ${weights}; best on — ${tally}).`;
}

/** Medians per driver and option, for the reader who wants the tally's figures. */
export function standingLines(o: Outcome): string[] {
  return o.standings
    .filter((d) => d.medians.length >= 2)
    .map((d) => `- ${d.claim.topic} (weight ${num(d.weight)}): ${d.medians.map((m) => `${m.option} ${fmt(m.median, m.unit)}`).join(', ')} → ${d.winner ? `best: ${d.winner}` : 'a tie for best: no one'} (${d.claim.better} is better)`);
}

