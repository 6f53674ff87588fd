import type { StoredRun } from '../../results/read-run.js';
import { tcgPlatforms } from '../caveats.js';
import { fmt, fmtRatio } from '../format.js';
import { summaryIn, type RunView } from '../run-view.js';
import type { Claim, Verdict } from './definitions.js';
import { describeValue, ratioOf, ratioText, seriesMedian } from './value.js';

/** One claim judged on a container and a VM: the contrast the claim states. */
export interface ContrastResult {
  containerValue: string;
  vmValue: string;
  verdict: Verdict;
  reason: string;
  evidence: string[];
  caveats: string[];
  /** Which side measured better on the claim's metric (null when not measured or equal). */
  better: 'container' | 'vm' | null;
}

const GB_IN_MIB = 1e9 / 2 ** 20;

export const TCG_CLAIM_CAVEAT = (vm: string) =>
  `VM under TCG emulation: ${vm}'s figure comes from an emulated VM (times typically 5–50× slower than on a KVM host; memory includes the TCG translation cache) — not representative of a VM on a KVM host`;

/** The density search's stop reason and detail on a platform. */
export function densityStop(run: StoredRun, p: string): { why: string | null; detail: string | null } {
  const x = run.samples.find((y) => !y.warmup && y.platform === p && y.metric === 'density_max_instances');
  return { why: typeof x?.metadata.stopped_because === 'string' ? x.metadata.stopped_because : null, detail: typeof x?.metadata.detail === 'string' ? x.metadata.detail : null };
}

/** "p50 of 200 requests": requests behind a network figure (summed over its samples). */
export function networkRequests(run: StoredRun, p: string): number {
  return run.samples.filter((x) => !x.warmup && x.platform === p && x.metric === 'network_rtt_p50').reduce((sum, x) => sum + (typeof x.metadata.requests === 'number' ? x.metadata.requests : 0), 0);
}

/** Launch → boot and model-load shares of the cold start, from the startup phases' medians. */
export function coldStartBreakdown(run: StoredRun, p: string, total: number): string | null {
  const listening = seriesMedian(run, p, 'phase_listening');
  const loaded = seriesMedian(run, p, 'phase_model_loaded');
  const procStart = seriesMedian(run, p, 'phase_process_start');
  if (listening == null || loaded == null || procStart == null) return null;
  return `${p}: launch → server process start (boot) ${fmt(procStart, 'ms')} = ${((procStart / total) * 100).toFixed(0)} % of the cold start; model load (listening → model loaded) ${fmt(loaded - listening, 'ms')} = ${(((loaded - listening) / total) * 100).toFixed(0)} % (medians of the startup phases)`;
}

/**
 * The claim as the seed table states it, for one container and one VM of a
 * run (the verdict rules are written on each claim and in the decision
 * record). Pure.
 */
export function evaluateContrast(view: RunView, claim: Claim, container: string, vm: string): ContrastResult {
  const run = view.run;
  const cs = summaryIn(run, claim.metric, container);
  const vs = summaryIn(run, claim.metric, vm);
  const out: ContrastResult = { containerValue: describeValue(cs), vmValue: describeValue(vs), verdict: 'not measured', reason: '', evidence: [], caveats: [], better: null };
  if (!cs?.summary || !vs?.summary) {
    const missing = [...(!cs?.summary ? [container] : []), ...(!vs?.summary ? [vm] : [])];
    out.reason = `${claim.metric} was not measured on ${missing.join(' nor on ')}`;
    return out;
  }
  if (claim.tcgSensitive && tcgPlatforms(run).includes(vm)) out.caveats.push(TCG_CLAIM_CAVEAT(vm));
  const c = cs.summary.median;
  const v = vs.summary.median;
  out.better = c === v ? null : (claim.better === 'lower' ? c < v : c > v) ? 'container' : 'vm';
  const r = ratioOf(view, claim.metric, vm, container);
  const label = `${vm} ÷ ${container}`;
  const judge = (ok: boolean, why: string) => {
    out.verdict = ok ? 'confirmed' : 'refuted';
    out.reason = why;
  };
  switch (claim.id) {
    case 'startup': {
      const cOk = c <= 1000;
      const vOk = v >= 30_000;
      judge(cOk && vOk, `${container} ${fmt(c, 'ms')} ${cOk ? '≤' : '>'} 1 s; ${vm} ${fmt(v, 'ms')} ${vOk ? '≥' : '<'} 30 s${v > 60_000 ? ' (slower than the claimed 60 s)' : ''}`);
      out.evidence.push(ratioText(r, v, c, label));
      break;
    }
    case 'image-size': {
      const cOk = c <= GB_IN_MIB;
      const vOk = v >= GB_IN_MIB;
      judge(cOk && vOk, `${container} ${fmt(c, 'MiB')} ${cOk ? '≤' : '>'} 1 GB; ${vm} ${fmt(v, 'MiB')} ${vOk ? '≥' : '<'} 1 GB`);
      out.evidence.push(ratioText(r, v, c, label), 'both are built from the same minimal Debian root filesystem: the claim\'s "1–20 GB" assumes a general-purpose guest OS image');
      break;
    }
    case 'memory-overhead': {
      const cOk = c <= 5;
      const vOk = v >= 5;
      judge(cOk && vOk, `${container} ${c.toFixed(1)} % ${cOk ? '≤' : '>'} 5 %; ${vm} ${v.toFixed(1)} % ${vOk ? '≥' : '<'} 5 %${v > 15 ? ' (above the claimed 15 %)' : ''}`);
      out.evidence.push(
        `host memory per instance: ${container} ${describeValue(summaryIn(run, 'memory_host', container))}, ${vm} ${describeValue(summaryIn(run, 'memory_host', vm))}`,
        `workload PSS inside: ${container} ${describeValue(summaryIn(run, 'memory_workload_pss', container))}, ${vm} ${describeValue(summaryIn(run, 'memory_workload_pss', vm))}`,
      );
      break;
    }
    case 'density': {
      const cStop = densityStop(run, container);
      const vStop = densityStop(run, vm);
      const vOk = v <= 9;
      out.evidence.push(`${container} stopped: ${cStop.why ?? 'unknown'}${cStop.detail ? ` (${cStop.detail})` : ''}`, `${vm} stopped: ${vStop.why ?? 'unknown'}${vStop.detail ? ` (${vStop.detail})` : ''}`);
      for (const p of [container, vm]) {
        const marginal = summaryIn(run, 'density_marginal_memory', p);
        if (marginal) out.evidence.push(`marginal memory per extra instance of ${p}: ${describeValue(marginal)}`);
      }
      if (c < 10 && cStop.why === 'max_instances') {
        out.verdict = vOk ? 'inconclusive' : 'refuted';
        out.reason = `${container} reached the scenario's max_instances = ${c} with every limit still met: a lower bound, not the host's capacity (raise density.max_instances to test "tens"); ${vm} ${v} ${vOk ? '≤' : '>'} 9`;
      } else {
        judge(c >= 10 && vOk, `${container} ${c} ${c >= 10 ? '≥' : '<'} 10 instances; ${vm} ${v} ${vOk ? '≤' : '>'} 9`);
      }
      break;
    }
    case 'cold-start': {
      const ratio = r?.ratio ?? v / c;
      const ciOk = r?.ratioCI ? r.ratioCI.low > 1 : true;
      judge(ratio >= 2 && ciOk, `${label} = ${fmtRatio(ratio)} ${ratio >= 2 ? '≥' : '<'} 2${r?.ratioCI ? ` (95 % CI ${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)}${ciOk ? ', above 1' : ', includes 1'})` : ''}`);
      for (const [p, total] of [[container, c], [vm, v]] as const) {
        const b = coldStartBreakdown(run, p, total);
        if (b) out.evidence.push(b);
      }
      break;
    }
    case 'snapshot': {
      const ratio = r?.ratio ?? v / c;
      const ciOk = r?.ratioCI ? r.ratioCI.low > 1 : true;
      judge(ratio > 1 && ciOk, `${vm} restore ${fmt(v, 'ms')} vs ${container} ${fmt(c, 'ms')}: ${label} = ${fmtRatio(ratio)}`);
      for (const m of ['snapshot_take', 'snapshot_size', 'snapshot_fresh'] as const) {
        const a = summaryIn(run, m, container);
        const b = summaryIn(run, m, vm);
        if (a || b) out.evidence.push(`${m}: ${container} ${describeValue(a)}, ${vm} ${describeValue(b)}`);
      }
      out.caveats.push('not the same operation: a Docker commit snapshots the filesystem only (the restored container loads the model again), while a QEMU restore brings back memory with the model already loaded');
      break;
    }
    case 'network': {
      const perRequests = (p: string, value: number) => (networkRequests(run, p) ? `${fmt(value, 'ms')} (p50 of ${networkRequests(run, p)} requests)` : describeValue(summaryIn(run, claim.metric, p)));
      out.containerValue = perRequests(container, c);
      out.vmValue = perRequests(vm, v);
      judge(v > c, `${vm} p50 ${fmt(v, 'ms')} ${v > c ? '>' : '≤'} ${container} p50 ${fmt(c, 'ms')} (${ratioText(r, v, c, label)})`);
      const p99c = summaryIn(run, 'network_rtt_p99', container);
      const p99v = summaryIn(run, 'network_rtt_p99', vm);
      if (p99c || p99v) out.evidence.push(`p99: ${container} ${describeValue(p99c)}, ${vm} ${describeValue(p99v)}`);
      const net = (p: string) => run.record.environment.platforms?.[p]?.network;
      out.evidence.push(`paths: ${container} network = ${String(net(container) ?? 'unknown')}, ${vm} network = ${String(net(vm) ?? 'unknown')}`);
      break;
    }
  }
  return out;
}
