import type { StoredRun } from '../results/read-run.js';
import { fairnessOfRun } from '../results/fairness-inputs.js';
import { fairnessWarning } from '../results/fairness.js';
import { projectRun } from './capacity/projection.js';
import { collectWarnings } from './caveats.js';
import { CLAIMS, ISOLATION_CLAIM, evaluateRunClaims, type ClaimResult } from './claims.js';
import { evaluateIsolation } from './claims/isolation.js';
import { decideOutcome } from './decision/outcome.js';
import { choiceLine, requirementLines, sensitivityLine } from './decision/outcome-markdown.js';
import { fmt, fmtRatio } from './format.js';
import { decisionFor, type ReportOptions } from './options.js';
import { runView, summaryIn } from './run-view.js';

const plain = (md: string) => md.replace(/\*\*/g, '').replace(/`/g, '');

const VERDICT: Record<ClaimResult['verdict'], string> = {
  confirmed: 'confirmed',
  refuted: 'REFUTED',
  inconclusive: 'inconclusive',
  'not measured': 'not measured',
  'not applicable': 'n/a',
};

/** "316 ms (n=2)": a substrate's figure for a claim, short. */
function figure(run: StoredRun, metric: string, platform: string | null): string {
  const s = summaryIn(run, metric, platform);
  return s?.summary ? `${fmt(s.summary.median, s.unit)} (n=${s.summary.n})` : 'not measured';
}

/**
 * What `bench run` prints at its end, the answer first: the unequal-resources
 * warning when there is one, the decision with its sensitivity (and the
 * requirements that eliminated options), one line per claim with every
 * substrate's figure, its ratio to the reference with the CI and the
 * verdict, one line of capacity, then every other warning. The full metric
 * table is behind `bench run --full`, in summary.md and in the report. Pure.
 */
export function renderTerminalSummary(run: StoredRun, options: ReportOptions = {}): string {
  const view = runView(run, options.reference);
  const out: string[] = [];
  const unequal = fairnessWarning(fairnessOfRun(run));
  if (unequal) out.push(`⚠ ${unequal}`, '');
  const outcome = decideOutcome(view, decisionFor(run, options));
  for (const l of requirementLines(outcome)) if (l) out.push(plain(l));
  out.push(`Decision: ${plain(choiceLine(outcome)).replace(/^Chosen option: /, '')}`);
  if (outcome.chosen) out.push(plain(sensitivityLine(outcome)));
  out.push('', `Claims (each substrate against the reference, ${view.reference ?? '—'}; ratio with its 95 % CI):`);
  const claims = evaluateRunClaims(view);
  const width = Math.max(...CLAIMS.map((c) => c.topic.length), ISOLATION_CLAIM.topic.length);
  for (const c of CLAIMS) {
    const mine = claims.filter((x) => x.claim.id === c.id && x.substrate);
    if (mine.every((r) => r.verdict === 'not measured') && !summaryIn(run, c.metric, view.reference)) {
      out.push(`  ${c.topic.padEnd(width)}  not measured`);
      continue;
    }
    const cells = [`${view.reference} ${figure(run, c.metric, view.reference)}`];
    for (const r of mine) {
      const ratio = r.ratio?.ratio != null ? ` ${fmtRatio(r.ratio.ratio)}${r.ratio.ratioCI ? ` [${fmtRatio(r.ratio.ratioCI.low)}–${fmtRatio(r.ratio.ratioCI.high)}]` : ''}` : '';
      cells.push(`${r.substrate} ${figure(run, c.metric, r.substrate)}${ratio} ${VERDICT[r.verdict]}`);
    }
    out.push(`  ${c.topic.padEnd(width)}  ${cells.join(' · ')}`);
  }
  const iso = evaluateIsolation(view);
  out.push(`  ${ISOLATION_CLAIM.topic.padEnd(width)}  ${iso.map((i) => `${i.platform} ${i.verdict === 'not measured' ? `${i.value.split(' (')[0]} (not measured)` : `${i.value.split(' · ')[0]} ${VERDICT[i.verdict]}`}`).join(' · ')}`);
  const pr = projectRun(view, options);
  if (pr.reason) out.push('', `Capacity: not projectable (${pr.reason})`);
  else {
    const cells = pr.rows.map((p) => (p.figures ? `${p.platform} ${fmt(p.figures.throughputPerHost, 'req/s')} per host${p.figures.hostsNeeded != null ? `, ${p.figures.hostsNeeded} host(s)` : ''}` : `${p.platform} not projectable`));
    out.push('', `Capacity (projection from one host's measurements, p99 ≤ ${fmt(pr.settings.sloMs, 'ms')}): ${cells.join(' · ')}`);
  }
  const warnings = collectWarnings([run]).filter((w) => w.kind !== 'fairness');
  if (warnings.length) out.push('', ...warnings.map((w) => `⚠ ${w.text}`));
  return out.join('\n');
}
