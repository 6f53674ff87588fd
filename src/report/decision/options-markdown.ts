import { evaluateRunClaims } from '../claims.js';
import { kernelOf, syscallText } from '../claims/isolation.js';
import { describeValue } from '../claims/value.js';
import { summaryIn, substrateTitle, type RunView } from '../run-view.js';
import { decideOutcome, type Outcome } from './outcome.js';

/**
 * Pros and cons of every option of a run (MADR): per measured driver, good
 * when the option measured best of all options, bad when another did (with
 * that one named), neutral on a tie for best; the evidence of its claims
 * against the reference; then its isolation, measured or as implied by its
 * kind. Pure.
 */
export function optionsMarkdown(view: RunView, outcome: Outcome): string[] {
  const all = decideOutcome(view, null);
  const claims = evaluateRunClaims(view);
  const out: string[] = [];
  for (const s of view.substrates) {
    const tags = [
      ...(s.platform === view.reference ? ['reference'] : []),
      ...(outcome.chosen === s.platform ? ['chosen'] : []),
      ...(outcome.remaining.includes(s.platform) ? [] : ['eliminated']),
    ];
    out.push(`### ${substrateTitle(s)}${tags.length ? ` — ${tags.join(', ')}` : ''}`, '');
    for (const d of all.standings) {
      const mine = d.medians.find((m) => m.option === s.platform);
      if (!mine || d.medians.length < 2) continue;
      const value = describeValue(summaryIn(view.run, d.claim.metric, s.platform));
      const best = d.medians.filter((m) => m.median === (d.claim.better === 'lower' ? Math.min(...d.medians.map((x) => x.median)) : Math.max(...d.medians.map((x) => x.median))));
      const topic = d.claim.topic.toLowerCase();
      if (d.winner === s.platform) out.push(`- Good, because ${topic} measured ${value}: the best of the ${d.medians.length} options measured`);
      else if (best.some((b) => b.option === s.platform)) out.push(`- Neutral, because ${topic} measured ${value}, level with ${best.filter((b) => b.option !== s.platform).map((b) => b.option).join(', ')}`);
      else out.push(`- Bad, because ${topic} measured ${value} vs ${best.map((b) => `${b.option}'s ${describeValue(summaryIn(view.run, d.claim.metric, b.option))}`).join(', ')} (the best)`);
      const c = claims.find((r) => r.claim.id === d.claim.id && r.substrate === s.platform);
      for (const e of c?.evidence ?? []) out.push(`  - ${e}`);
      if (c?.caveats.length) out.push(`  - caveat: ${c.caveats.join('; ')}`);
    }
    const k = kernelOf(view.run, s);
    out.push(k.ownKernel ? `- Good, because its workload runs on a kernel of its own, not the host's (${k.provenance})` : `- Bad, because its workload shares the host kernel with every other tenant (${k.provenance})`);
    for (const t of syscallText(view, s.platform)) out.push(`  - system call cost: ${t}`);
    out.push('');
  }
  return out;
}
