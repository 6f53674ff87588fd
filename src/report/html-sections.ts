import type { StoredRun } from '../results/read-run.js';
import { fairnessOfRun } from '../results/fairness-inputs.js';
import { projectRun } from './capacity/projection.js';
import { projectionSection } from './capacity/table.js';
import { CLAIMS, ISOLATION_CLAIM, NOT_MEASURABLE, evaluateRunClaims } from './claims.js';
import { evaluateIsolation } from './claims/isolation.js';
import { describeValue } from './claims/value.js';
import { fmtRatio } from './format.js';
import { fairnessLines, fairnessTable } from './fairness-text.js';
import { isolationTable } from './isolation/facts-table.js';
import { neighborRows, syscallRows } from './isolation/boundary-cost.js';
import { decisionFor, type ReportOptions } from './options.js';
import { runView, summaryIn, type RunView } from './run-view.js';
import { decideOutcome } from './decision/outcome.js';
import { choiceLine, requirementLines, sensitivityLine } from './decision/outcome-markdown.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
const h = escapeHtml;

/** A plain HTML table of text cells (escaped). */
export function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: ReadonlySet<number> = new Set()): string[] {
  return [
    '<table>',
    `<tr>${header.map((x) => `<th>${h(x)}</th>`).join('')}</tr>`,
    ...rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${h(c)}</td>`).join('')}</tr>`),
    '</table>',
  ];
}

const verdictClass = (v: string) => `v-${v.replace(/ /g, '-')}`;

/** The claims of one run: a column per substrate, the reference first; each other cell with its ratio, verdict and why. */
export function claimsHtml(view: RunView, several: boolean): string[] {
  const results = evaluateRunClaims(view);
  const ref = view.reference;
  const others = view.substrates.filter((s) => s.platform !== ref);
  const out: string[] = [];
  if (several) out.push(`<h3>${h(view.run.record.runId)}</h3>`);
  const cols = [...(ref ? [`${ref} (reference)`] : []), ...others.map((s) => s.platform)];
  out.push('<table>', `<tr><th>claim</th><th>claimed: containers</th><th>claimed: VMs</th>${cols.map((c) => `<th>${h(c)}</th>`).join('')}</tr>`);
  for (const claim of CLAIMS) {
    const mine = results.filter((r) => r.claim.id === claim.id && r.substrate);
    const refCell = ref ? [`<td>${h(mine[0]?.referenceValue ?? describeValue(summaryIn(view.run, claim.metric, ref)))}</td>`] : [];
    const cells = others.map((s) => {
      const r = mine.find((x) => x.substrate === s.platform);
      if (!r) return '<td>—</td>';
      const ratio = r.ratio?.ratio != null ? `<br>${h(fmtRatio(r.ratio.ratio))}${r.ratio.ratioCI ? ` (95 % CI ${h(fmtRatio(r.ratio.ratioCI.low))} – ${h(fmtRatio(r.ratio.ratioCI.high))})` : ''}` : '';
      return `<td>${h(r.value)}${ratio}<br><span class="${verdictClass(r.verdict)}">${h(r.verdict)}</span><br><span class="meta">${h(r.reason)}</span>${r.caveats.map((c) => `<br>⚠ ${h(c)}`).join('')}</td>`;
    });
    out.push(`<tr><td>${h(claim.topic)}</td><td>${h(claim.containerClaim)}</td><td>${h(claim.vmClaim)}</td>${[...refCell, ...cells].join('')}</tr>`);
  }
  const iso = evaluateIsolation(view);
  const isoCells = [...(ref ? [ref] : []), ...others.map((s) => s.platform)].map((p) => {
    const x = iso.find((i) => i.platform === p)!;
    return `<td>${h(x.value)}<br><span class="${verdictClass(x.verdict)}">${h(x.verdict)}</span><br><span class="meta">${h(x.reason)}</span></td>`;
  });
  out.push(`<tr><td>${h(ISOLATION_CLAIM.topic)}</td><td>${h(ISOLATION_CLAIM.containerClaim)}</td><td>${h(ISOLATION_CLAIM.vmClaim)}</td>${isoCells.join('')}</tr>`);
  for (const n of NOT_MEASURABLE) {
    out.push(`<tr><td>${h(n.topic)}</td><td>${h(n.containerClaim)}</td><td>${h(n.vmClaim)}</td>${cols.map(() => '<td class="v-not-measured">not measured by this tool</td>').join('')}</tr>`);
  }
  out.push('</table>');
  return out;
}

/** Isolation facts, system-call cost and noisy neighbours of every run that measured them; empty when none did. */
export function isolationHtml(runs: readonly StoredRun[], reference: string | undefined): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const view = runView(run, reference);
    const facts = isolationTable(view);
    const sys = syscallRows(view);
    const nb = neighborRows(view);
    if (!facts && !sys.length && !nb.length) continue;
    if (runs.length > 1) out.push(`<h3>${h(run.record.runId)}</h3>`);
    if (facts) out.push('<p>Facts read inside one instance of each substrate (kernel as the workload sees it vs the host\'s, capabilities, seccomp, no_new_privs, user namespace, uid, host devices, runtime):</p>', ...htmlTable(facts.header, facts.rows));
    if (sys.length) {
      out.push(`<p>The cost of the boundary: µs per system call, timed inside the instance; ratio to ${h(view.reference ?? 'the reference')} with its 95 % bootstrap CI.</p>`);
      out.push(...htmlTable(['substrate', 'call', 'median', '95 % CI of median', 'n', `÷ ${view.reference ?? 'reference'}`], sys.map((r) => [r.platform, r.call, r.median, r.ci95, String(r.n), r.ratio]), new Set([2, 3, 4, 5])));
    }
    if (nb.length) {
      out.push('<p>Noisy neighbours (victim at a fixed open-loop rate, K neighbours of the same substrate saturating their CPU): medians over n windows; inflation and loss against K = 0 with 95 % bootstrap CIs. The chart is in Charts.</p>');
      out.push(...htmlTable(['substrate', 'K', 'n', 'p50', 'p99', 'throughput', 'p50 inflation', 'p99 inflation', 'throughput loss'], nb.map((r) => [r.platform, String(r.neighbors), String(r.n), r.p50, r.p99, r.throughput, r.p50Inflation, r.p99Inflation, r.throughputLoss]), new Set([1, 2, 3, 4, 5, 6, 7, 8])));
    }
  }
  return out;
}

/** What each option got, per run, with every difference named. */
export function fairnessHtml(runs: readonly StoredRun[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const audit = fairnessOfRun(run);
    if (runs.length > 1) out.push(`<h3>${h(run.record.runId)}</h3>`);
    const t = fairnessTable(audit);
    out.push(...htmlTable(t.header, t.rows));
    const lines = fairnessLines(audit);
    out.push('<ul>', ...(lines.length ? lines : ['Every option got the same resources.']).map((l) => `<li>${l.startsWith('unequal') ? '⚠ ' : ''}${h(l)}</li>`), '</ul>');
  }
  return out;
}

/** The capacity and cost projection of every run (the chart is with the other charts). */
export function capacityHtml(runs: readonly StoredRun[], options: ReportOptions): string[] {
  const out: string[] = [];
  for (const run of runs) {
    if (runs.length > 1) out.push(`<h3>${h(run.record.runId)}</h3>`);
    const sec = projectionSection(projectRun(runView(run, options.reference), options));
    if ('reason' in sec) {
      out.push(`<p>Not projectable: ${h(sec.reason)}.</p>`);
      continue;
    }
    out.push(`<p><b>${h(sec.settings.split(':')[0]!)}</b>:${h(sec.settings.slice(sec.settings.indexOf(':') + 1))}</p>`, ...htmlTable(sec.header, sec.rows), '<ul>', ...sec.notes.map((n) => `<li>${h(n)}</li>`), '</ul>');
  }
  return out;
}

/** Markdown emphasis and code of the outcome lines as HTML (the text is escaped first). */
function inlineMarkdown(md: string): string {
  return h(md).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** The answer first: per run, the requirements that eliminated options, the chosen option and its sensitivity. */
export function decisionHtml(runs: readonly StoredRun[], options: ReportOptions): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const o = decideOutcome(runView(run, options.reference), decisionFor(run, options));
    if (runs.length > 1) out.push(`<h3>${h(run.record.runId)}</h3>`);
    const req = requirementLines(o).filter((l) => l.startsWith('- '));
    if (req.length) out.push('<ul>', ...req.map((l) => `<li>${inlineMarkdown(l.slice(2))}</li>`), '</ul>');
    out.push(`<p>${inlineMarkdown(choiceLine(o))}</p>`);
    if (o.chosen) out.push(`<p>${inlineMarkdown(sensitivityLine(o))}</p>`);
  }
  out.push('<p class="meta">The full record (drivers, options, pros and cons with the evidence, verdict rules) is <code>decision.md</code>.</p>');
  return out;
}
