import type { StoredRun } from '../results/read-run.js';
import type { MetricSummary, RatioRow } from '../results/run-record.js';
import { sampleLabel } from '../results/sample.js';
import { tcgPlatforms } from './caveats.js';
import { fmt, fmtP, fmtRatio } from './format.js';
import { isVmKind, median, platformsOf } from './series.js';

/**
 * The seed's containers-vs-VMs claims, each with an explicit, written verdict
 * rule, re-derived from one run's stored results. Pure.
 *
 * Rules (also printed in the decision report): a claim states a contrast
 * ("containers at most X, VMs at least Y"). It is CONFIRMED when the measured
 * medians show that contrast at least as strongly as claimed — the container's
 * median is within or better than its claimed range AND the VM's median is
 * within or worse than its claimed range (for qualitative claims: the ratio
 * rule written on the claim); REFUTED when either side contradicts it;
 * INCONCLUSIVE when the measurement was capped before it could decide (e.g.
 * density stopped at max_instances below the claimed range); NOT MEASURED when
 * the run has no value for the metric on one of the two substrates.
 */
export type Verdict = 'confirmed' | 'refuted' | 'inconclusive' | 'not measured';

export type Better = 'lower' | 'higher';

export interface Claim {
  id: string;
  topic: string;
  metric: string;
  containerClaim: string;
  vmClaim: string;
  better: Better;
  /** The verdict rule in words. */
  rule: string;
  /** Whether VM figures of this metric are distorted by TCG emulation. */
  tcgSensitive: boolean;
}

const GB_IN_MIB = 1e9 / 2 ** 20;

export const CLAIMS: readonly Claim[] = [
  {
    id: 'startup', topic: 'Startup time', metric: 'startup', containerClaim: '< 1 s', vmClaim: '30–60 s', better: 'lower', tcgSensitive: true,
    rule: 'confirmed when median startup is ≤ 1 s for the container and ≥ 30 s for the VM (a VM slower than 60 s still bears the contrast out); refuted otherwise',
  },
  {
    id: 'image-size', topic: 'Image size', metric: 'image_size', containerClaim: '10 MB – 1 GB', vmClaim: '1 – 20 GB', better: 'lower', tcgSensitive: false,
    rule: 'confirmed when the container image is ≤ 1 GB (953.7 MiB) and the VM image (disk + kernel + initramfs) ≥ 1 GB; refuted otherwise',
  },
  {
    id: 'memory-overhead', topic: 'Memory overhead', metric: 'memory_overhead_pct', containerClaim: '~0–5 %', vmClaim: '~5–15 %', better: 'lower', tcgSensitive: true,
    rule: 'overhead = (host memory − workload PSS) ÷ workload PSS; confirmed when the container\'s median is ≤ 5 % and the VM\'s ≥ 5 %; refuted otherwise',
  },
  {
    id: 'density', topic: 'Density', metric: 'density_max_instances', containerClaim: 'tens–hundreds per host', vmClaim: 'single digits per host', better: 'higher', tcgSensitive: true,
    rule: 'confirmed when the container reached ≥ 10 instances and the VM ≤ 9 within the scenario\'s memory budget and p99 SLO; inconclusive when the container stopped at max_instances below 10 (the cap, not the host, stopped it); refuted otherwise',
  },
  {
    id: 'cold-start', topic: 'Cold-start latency', metric: 'cold_start', containerClaim: 'low (model load dominates)', vmClaim: 'high (OS boot + model load)', better: 'lower', tcgSensitive: true,
    rule: 'confirmed when the VM\'s median cold start is ≥ 2× the container\'s (and the bootstrap CI of that ratio lies above 1 when there is one); refuted otherwise. The phase breakdown (model load share, OS boot time) is given as evidence',
  },
  {
    id: 'snapshot', topic: 'Snapshot/rollback speed', metric: 'snapshot_restore', containerClaim: 'fast (image layers)', vmClaim: 'slow (full disk image)', better: 'lower', tcgSensitive: true,
    rule: 'restore call → first successful inference; confirmed when the container restores faster than the VM (VM ÷ container > 1, CI above 1 when there is one); refuted otherwise',
  },
  {
    id: 'network', topic: 'Networking latency', metric: 'network_rtt_p50', containerClaim: 'fast (host/overlay)', vmClaim: 'higher latency (bridged/NAT)', better: 'lower', tcgSensitive: true,
    rule: 'median round trip of a no-inference request; confirmed when the VM\'s p50 is higher than the container\'s; refuted otherwise',
  },
];

/** Rows of the seed table this tool cannot measure. */
export const NOT_MEASURABLE: ReadonlyArray<{ topic: string; containerClaim: string; vmClaim: string }> = [
  { topic: 'Isolation level', containerClaim: 'process-level (shared host kernel)', vmClaim: 'full OS-level (own kernel, hardware virtualisation)' },
  { topic: 'Orchestration', containerClaim: 'mature (Kubernetes, …)', vmClaim: 'heavier (VM managers, …)' },
  { topic: 'Portability', containerClaim: 'high (image runs on any host with a compatible kernel)', vmClaim: 'lower (hypervisor-specific images)' },
];

export interface ClaimResult {
  claim: Claim;
  runId: string;
  container: string | null;
  vm: string | null;
  /** Measured value of each side, with unit, n and spread. */
  containerValue: string;
  vmValue: string;
  verdict: Verdict;
  reason: string;
  /** Further measured evidence (phase breakdown, p99, sizes …). */
  evidence: string[];
  caveats: string[];
  /** Which substrate measured better on this metric (null when not measured or equal). */
  better: 'container' | 'vm' | null;
}

function summary(run: StoredRun, metric: string, platform: string | null): MetricSummary | null {
  if (!platform) return null;
  return run.record.summaries.find((s) => s.metric === metric && s.platform === platform && s.summary) ?? null;
}

/** "536 ms (n = 5, 95 % CI 500 ms – 732 ms)" — a measured value as a reader should see it. */
export function describeValue(s: MetricSummary | null): string {
  const sum = s?.summary;
  if (!s || !sum) return 'not measured';
  const spread = sum.ci95 ? `, 95 % CI ${fmt(sum.ci95.low, s.unit)} – ${fmt(sum.ci95.high, s.unit)}` : sum.n === 1 ? ', single reading' : '';
  return `${fmt(sum.median, s.unit)} (n = ${sum.n}${spread})`;
}

function ratioRow(run: StoredRun, metric: string, vm: string, container: string): RatioRow | null {
  return run.record.ratios.find((r) => r.metric === metric && r.numerator === vm && r.denominator === container) ?? null;
}

function ratioText(r: RatioRow | null, a: number, b: number): string {
  if (r?.ratio != null) {
    return `VM ÷ container = ${fmtRatio(r.ratio)}${r.ratioCI ? ` (95 % CI ${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)})` : ''}${r.p != null ? `, Mann–Whitney ${fmtP(r.p)}` : ''}`;
  }
  return b === 0 ? 'VM ÷ container undefined (container value 0)' : `VM ÷ container = ${fmtRatio(a / b)}`;
}

function phaseMedian(run: StoredRun, platform: string, metric: string): number | null {
  return median(run.samples.filter((x) => !x.warmup && x.platform === platform && sampleLabel(x) === metric).map((x) => x.value));
}

/** The reference container (first Docker platform) and the VM platforms of a run. */
export function substratesOf(run: StoredRun): { container: string | null; vms: string[]; others: string[] } {
  const ps = platformsOf(run);
  const container = ps.find((p) => p.kind === 'docker')?.platform ?? null;
  return {
    container,
    vms: ps.filter((p) => isVmKind(p.kind)).map((p) => p.platform),
    others: ps.filter((p) => p.kind === 'docker' && p.platform !== container).map((p) => p.platform),
  };
}

/** Evaluates one claim for one VM platform against the run's reference container. */
export function evaluateClaim(run: StoredRun, claim: Claim, container: string | null, vm: string | null): ClaimResult {
  const cs = summary(run, claim.metric, container);
  const vs = summary(run, claim.metric, vm);
  const caveats: string[] = [];
  const base: ClaimResult = {
    claim, runId: run.record.runId, container, vm, containerValue: describeValue(cs), vmValue: describeValue(vs),
    verdict: 'not measured', reason: '', evidence: [], caveats, better: null,
  };
  if (!container || !vm) {
    base.reason = !container ? 'the run has no container (docker) platform' : 'the run has no VM (qemu/vagrant) platform';
    return base;
  }
  if (!cs?.summary || !vs?.summary) {
    const missing = [...(!cs?.summary ? [container] : []), ...(!vs?.summary ? [vm] : [])];
    base.reason = `${claim.metric} was not measured on ${missing.join(' nor on ')}`;
    return base;
  }
  if (claim.tcgSensitive && tcgPlatforms(run).includes(vm)) {
    caveats.push(`VM under TCG emulation: ${vm}'s figure comes from an emulated VM (times typically 5–50× slower than on a KVM host; memory includes the TCG translation cache) — not representative of a VM on a KVM host`);
  }
  const c = cs.summary.median;
  const v = vs.summary.median;
  base.better = c === v ? null : (claim.better === 'lower' ? c < v : c > v) ? 'container' : 'vm';
  const r = ratioRow(run, claim.metric, vm, container);
  const judge = (ok: boolean, why: string) => {
    base.verdict = ok ? 'confirmed' : 'refuted';
    base.reason = why;
  };
  switch (claim.id) {
    case 'startup': {
      const cOk = c <= 1000;
      const vOk = v >= 30_000;
      judge(cOk && vOk, `container ${fmt(c, 'ms')} ${cOk ? '≤' : '>'} 1 s; VM ${fmt(v, 'ms')} ${vOk ? '≥' : '<'} 30 s${v > 60_000 ? ' (slower than the claimed 60 s)' : ''}`);
      base.evidence.push(ratioText(r, v, c));
      break;
    }
    case 'image-size': {
      const cOk = c <= GB_IN_MIB;
      const vOk = v >= GB_IN_MIB;
      judge(cOk && vOk, `container ${fmt(c, 'MiB')} ${cOk ? '≤' : '>'} 1 GB; VM ${fmt(v, 'MiB')} ${vOk ? '≥' : '<'} 1 GB`);
      base.evidence.push(ratioText(r, v, c), 'both are built from the same minimal Debian root filesystem: the claim\'s "1–20 GB" assumes a general-purpose guest OS image');
      break;
    }
    case 'memory-overhead': {
      const cOk = c <= 5;
      const vOk = v >= 5;
      judge(cOk && vOk, `container ${c.toFixed(1)} % ${cOk ? '≤' : '>'} 5 %; VM ${v.toFixed(1)} % ${vOk ? '≥' : '<'} 5 %${v > 15 ? ' (above the claimed 15 %)' : ''}`);
      const host = (p: string) => summary(run, 'memory_host', p);
      const pss = (p: string) => summary(run, 'memory_workload_pss', p);
      base.evidence.push(
        `host memory per instance: container ${describeValue(host(container))}, VM ${describeValue(host(vm))}`,
        `workload PSS inside: container ${describeValue(pss(container))}, VM ${describeValue(pss(vm))}`,
      );
      break;
    }
    case 'density': {
      const stop = (p: string) => {
        const x = run.samples.find((y) => !y.warmup && y.platform === p && y.metric === 'density_max_instances');
        return { why: typeof x?.metadata.stopped_because === 'string' ? x.metadata.stopped_because : null, detail: typeof x?.metadata.detail === 'string' ? x.metadata.detail : null };
      };
      const cs2 = stop(container);
      const vs2 = stop(vm);
      const vOk = v <= 9;
      base.evidence.push(`container stopped: ${cs2.why ?? 'unknown'}${cs2.detail ? ` (${cs2.detail})` : ''}`, `VM stopped: ${vs2.why ?? 'unknown'}${vs2.detail ? ` (${vs2.detail})` : ''}`);
      const marginal = (p: string) => summary(run, 'density_marginal_memory', p);
      if (marginal(container)) base.evidence.push(`marginal memory per extra container: ${describeValue(marginal(container))}`);
      if (marginal(vm)) base.evidence.push(`marginal memory per extra VM: ${describeValue(marginal(vm))}`);
      if (c < 10 && cs2.why === 'max_instances') {
        base.verdict = vOk ? 'inconclusive' : 'refuted';
        base.reason = `the container reached the scenario's max_instances = ${c} with every limit still met: a lower bound, not the host's capacity (raise density.max_instances to test "tens"); VM ${v} ${vOk ? '≤' : '>'} 9`;
      } else {
        judge(c >= 10 && vOk, `container ${c} ${c >= 10 ? '≥' : '<'} 10 instances; VM ${v} ${vOk ? '≤' : '>'} 9`);
      }
      break;
    }
    case 'cold-start': {
      const ratio = r?.ratio ?? v / c;
      const ciOk = r?.ratioCI ? r.ratioCI.low > 1 : true;
      judge(ratio >= 2 && ciOk, `VM ÷ container = ${fmtRatio(ratio)} ${ratio >= 2 ? '≥' : '<'} 2${r?.ratioCI ? ` (95 % CI ${fmtRatio(r.ratioCI.low)} – ${fmtRatio(r.ratioCI.high)}${ciOk ? ', above 1' : ', includes 1'})` : ''}`);
      const breakdown = (p: string): string | null => {
        const listening = phaseMedian(run, p, 'phase_listening');
        const loaded = phaseMedian(run, p, 'phase_model_loaded');
        const procStart = phaseMedian(run, p, 'phase_process_start');
        if (listening == null || loaded == null || procStart == null) return null;
        const total = p === container ? c : v;
        return `${p}: launch → server process start (boot) ${fmt(procStart, 'ms')} = ${((procStart / total) * 100).toFixed(0)} % of the cold start; model load (listening → model loaded) ${fmt(loaded - listening, 'ms')} = ${(((loaded - listening) / total) * 100).toFixed(0)} % (medians of the startup phases)`;
      };
      for (const p of [container, vm]) {
        const b = breakdown(p);
        if (b) base.evidence.push(b);
      }
      break;
    }
    case 'snapshot': {
      const ratio = r?.ratio ?? v / c;
      const ciOk = r?.ratioCI ? r.ratioCI.low > 1 : true;
      judge(ratio > 1 && ciOk, `VM restore ${fmt(v, 'ms')} vs container ${fmt(c, 'ms')}: VM ÷ container = ${fmtRatio(ratio)}`);
      for (const m of ['snapshot_take', 'snapshot_size', 'snapshot_fresh'] as const) {
        const a = summary(run, m, container);
        const b = summary(run, m, vm);
        if (a || b) base.evidence.push(`${m}: container ${describeValue(a)}, VM ${describeValue(b)}`);
      }
      base.caveats.push('not the same operation: a Docker commit snapshots the filesystem only (the restored container loads the model again), while a QEMU restore brings back memory with the model already loaded');
      break;
    }
    case 'network': {
      const requests = (p: string) =>
        run.samples.filter((x) => !x.warmup && x.platform === p && x.metric === 'network_rtt_p50').reduce((sum, x) => sum + (typeof x.metadata.requests === 'number' ? x.metadata.requests : 0), 0);
      const perRequests = (p: string, value: number) => (requests(p) ? `${fmt(value, 'ms')} (p50 of ${requests(p)} requests)` : describeValue(summary(run, claim.metric, p)));
      base.containerValue = perRequests(container, c);
      base.vmValue = perRequests(vm, v);
      judge(v > c, `VM p50 ${fmt(v, 'ms')} ${v > c ? '>' : '≤'} container p50 ${fmt(c, 'ms')} (${ratioText(r, v, c)})`);
      const p99c = summary(run, 'network_rtt_p99', container);
      const p99v = summary(run, 'network_rtt_p99', vm);
      if (p99c || p99v) base.evidence.push(`p99: container ${describeValue(p99c)}, VM ${describeValue(p99v)}`);
      const net = (p: string) => run.record.environment.platforms?.[p]?.network;
      base.evidence.push(`paths: container network = ${String(net(container) ?? 'unknown')}, VM network = ${String(net(vm) ?? 'unknown')}`);
      break;
    }
  }
  return base;
}

/** Every claim for every VM platform of every run (a run without a VM gives one "not measured" row per claim). */
export function evaluateClaims(runs: readonly StoredRun[]): ClaimResult[] {
  return runs.flatMap((run) => {
    const { container, vms } = substratesOf(run);
    const targets = vms.length ? vms : [null];
    return targets.flatMap((vm) => CLAIMS.map((claim) => evaluateClaim(run, claim, container, vm)));
  });
}
