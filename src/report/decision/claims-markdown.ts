import { CLAIMS, ISOLATION_CLAIM, NOT_MEASURABLE, evaluateRunClaims, type ClaimResult, type Verdict } from '../claims.js';
import { evaluateIsolation } from '../claims/isolation.js';
import { fmtRatio } from '../format.js';
import { markdownCell } from '../markdown-cell.js';
import { describeValue } from '../claims/value.js';
import { summaryIn, type RunView } from '../run-view.js';

export const VERDICT_MARK: Record<Verdict, string> = {
  confirmed: '✅ confirmed',
  refuted: '❌ refuted',
  inconclusive: '❔ inconclusive',
  'not measured': '— not measured',
  'not applicable': '○ not applicable',
};

/** "33.20 s (n = 5, …) · 63.30× (95 % CI …) · ✅ confirmed": one substrate's cell of a claim. */
export function claimCell(r: ClaimResult): string {
  if (r.verdict === 'not measured' && r.value === 'not measured') return VERDICT_MARK['not measured'];
  const ratio = r.ratio?.ratio != null ? ` · ${fmtRatio(r.ratio.ratio)}${r.ratio.ratioCI ? ` (95 % CI ${fmtRatio(r.ratio.ratioCI.low)} – ${fmtRatio(r.ratio.ratioCI.high)})` : ''}` : '';
  return `${r.value}${ratio} · ${VERDICT_MARK[r.verdict]}`;
}

/**
 * The claims of one run as a Markdown table with a column per substrate
 * (the reference first: every other cell carries its ratio to the reference
 * and its verdict), then why each verdict is what it is, then the caveats.
 */
export function claimsMarkdown(view: RunView): string[] {
  const results = evaluateRunClaims(view);
  const ref = view.reference;
  const others = view.substrates.filter((s) => s.platform !== ref);
  const cols = [...(ref ? [`${ref} (reference)`] : []), ...others.map((s) => s.platform)];
  const out: string[] = [];
  out.push(`| claim | claimed: containers | claimed: VMs | ${cols.join(' | ')} |`, `|${['---', '---', '---', ...cols.map(() => '---')].join('|')}|`);
  for (const claim of CLAIMS) {
    const mine = results.filter((r) => r.claim.id === claim.id && r.substrate);
    const refCell = ref ? [markdownCell(mine[0]?.referenceValue ?? describeValue(summaryIn(view.run, claim.metric, ref)))] : [];
    const cells = others.map((s) => {
      const r = mine.find((x) => x.substrate === s.platform);
      return r ? markdownCell(claimCell(r)) : '—';
    });
    out.push(`| ${claim.topic} | ${markdownCell(claim.containerClaim)} | ${markdownCell(claim.vmClaim)} | ${[...refCell, ...cells].join(' | ')} |`);
  }
  const iso = evaluateIsolation(view);
  const isoCell = (p: string) => {
    const x = iso.find((i) => i.platform === p)!;
    return markdownCell(x.verdict === 'not measured' ? `${x.value} · not measured` : `${x.value} · ${VERDICT_MARK[x.verdict]}`);
  };
  out.push(`| ${ISOLATION_CLAIM.topic} | ${markdownCell(ISOLATION_CLAIM.containerClaim)} | ${markdownCell(ISOLATION_CLAIM.vmClaim)} | ${[...(ref ? [isoCell(ref)] : []), ...others.map((s) => isoCell(s.platform))].join(' | ')} |`);
  for (const n of NOT_MEASURABLE) out.push(`| ${n.topic} | ${markdownCell(n.containerClaim)} | ${markdownCell(n.vmClaim)} | ${cols.map(() => 'not measured by this tool').join(' | ')} |`);
  out.push('');
  // "Not measured" is in the table already; the reasons are for verdicts a reader may question.
  const why = results.filter((r) => r.substrate && r.reason && r.verdict !== 'not measured').map((r) => `- **${r.claim.topic}**, ${r.substrate} vs ${r.reference}: ${VERDICT_MARK[r.verdict]} — ${r.reason}`);
  for (const x of iso.filter((i) => i.verdict !== 'not measured')) why.push(`- **${ISOLATION_CLAIM.topic}**, ${x.platform}: ${VERDICT_MARK[x.verdict]} — ${x.reason}`);
  if (why.length) out.push('Why:', '', ...why, '');
  const caveats = results.flatMap((r) => r.caveats.map((c) => `- **${r.claim.topic}** (${r.substrate}): ${c}`));
  if (caveats.length) out.push('Caveats:', '', ...caveats, '');
  return out;
}
