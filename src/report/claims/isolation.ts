import type { StoredRun } from '../../results/read-run.js';
import type { IsolationFacts, MetricSummary } from '../../results/run-record.js';
import type { Verdict } from './definitions.js';
import { fmt } from '../format.js';
import { isVmKind } from '../series.js';
import { ratioToReference, type RunView, type Substrate } from '../run-view.js';
import { fmtRatio } from '../format.js';

/** Whether a substrate's workload runs on its own kernel, and how that is known. */
export interface KernelFinding {
  ownKernel: boolean;
  /** True when read from inside the instance (record.isolation), false when inferred from the platform kind or runtime. */
  measured: boolean;
  /** How it is known, in words, for the record. */
  provenance: string;
}

/** OCI runtimes that give the workload a kernel of its own (a user-space kernel or a VM per container). */
const OWN_KERNEL_RUNTIMES = /^(runsc|kata)/;

/**
 * The kernel a substrate's workload runs on: measured (the boot id inside the
 * instance against the host's) when the run read isolation facts, else
 * inferred — a VM boots its own kernel; a container shares the host's unless
 * its runtime brings one (gVisor's runsc, Kata). Pure.
 */
export function kernelOf(run: StoredRun, s: Substrate): KernelFinding {
  const facts = run.record.isolation?.[s.platform];
  if (facts) {
    return {
      ownKernel: !facts.sharedKernel,
      measured: true,
      provenance: facts.sharedKernel
        ? `measured: the workload sees the host's kernel (same boot id; ${facts.kernelRelease})`
        : `measured: the workload sees kernel ${facts.kernelRelease}, not the host's ${facts.hostKernelRelease} (other boot id)`,
    };
  }
  if (isVmKind(s.kind)) return { ownKernel: true, measured: false, provenance: `from the platform kind (${s.kind}: a VM boots its own kernel); not measured` };
  if (s.runtime && OWN_KERNEL_RUNTIMES.test(s.runtime)) {
    return { ownKernel: true, measured: false, provenance: `from the runtime (${s.runtime} gives each container its own kernel); not measured` };
  }
  return { ownKernel: false, measured: false, provenance: `from the platform kind (${s.kind}${s.runtime ? `, runtime ${s.runtime}` : ''}: a container shares the host kernel); not measured` };
}

/** Syscall-cost series of a platform (one per call), in the run's order. */
export function syscallSummaries(run: StoredRun, platform: string): MetricSummary[] {
  return run.record.summaries.filter((x) => x.base === 'syscall' && x.platform === platform && x.summary);
}

/** "getpid 0.31 µs (n = 10, 0.39× runc)": the per-call cost with its ratio to the reference. */
export function syscallText(view: RunView, platform: string): string[] {
  return syscallSummaries(view.run, platform).map((x) => {
    const call = String(x.params?.call ?? x.metric);
    const r = platform === view.reference ? null : ratioToReference(view, x.metric, platform);
    return `${call} ${fmt(x.summary!.median, x.unit)} per call (n = ${x.summary!.n}${r?.ratio != null ? `, ${fmtRatio(r.ratio)} ${view.reference}` : ''})`;
  });
}

export interface IsolationResult {
  platform: string;
  /** What the reader sees in the claims table for this substrate. */
  value: string;
  verdict: Verdict;
  reason: string;
}

/**
 * The isolation row of the claims: per substrate, the measured facts and the
 * cost of the boundary (syscall round trip) — or, not measured, the kernel as
 * the platform kind implies it. Verdict against the side of the claim the
 * substrate is on: a container "shares the host kernel", a VM "has its own";
 * confirmed or refuted only from measured facts.
 */
export function evaluateIsolation(view: RunView): IsolationResult[] {
  return view.substrates.map((s) => {
    const facts = view.run.record.isolation?.[s.platform];
    const kernel = kernelOf(view.run, s);
    const cost = syscallText(view, s.platform);
    const vm = isVmKind(s.kind);
    if (!facts) {
      return {
        platform: s.platform,
        value: `${kernel.ownKernel ? 'own kernel' : 'shared host kernel'} (${kernel.provenance})${cost.length ? ` · ${cost.join(', ')}` : ''}`,
        verdict: 'not measured',
        reason: `no isolation facts were read inside ${s.platform}`,
      };
    }
    const ok = vm ? !facts.sharedKernel : facts.sharedKernel;
    const runtime = `${facts.runtime}${facts.runtimeVersion ? ` ${facts.runtimeVersion}` : ''}${facts.gvisorPlatform ? `, platform ${facts.gvisorPlatform}` : ''}`;
    const kernelText = facts.sharedKernel ? `shared host kernel ${facts.kernelRelease}` : `own kernel ${facts.kernelRelease} (host ${facts.hostKernelRelease})`;
    return {
      platform: s.platform,
      // The full facts are in the isolation table; the claims row keeps what the claim is about, and the cost.
      value: `${kernelText} · ${runtime}${cost.length ? ` · ${cost.join(', ')}` : ''}`,
      verdict: ok ? 'confirmed' : 'refuted',
      reason: vm
        ? ok ? `${s.platform} runs its own kernel (${facts.kernelRelease})` : `${s.platform} shares the host kernel`
        : ok ? `${s.platform} shares the host kernel (${facts.kernelRelease})` : `${s.platform} is a container with a kernel of its own (${facts.kernelRelease}, not the host's ${facts.hostKernelRelease}): ${facts.runtime} isolates more than the claim's "process-level"`,
    };
  });
}
