/**
 * The fairness audit: what each platform of a comparison gets — CPUs,
 * memory, ONNX Runtime threads, network path, accelerator, CPU pinning —
 * and every difference between them, so a comparison made on unequal
 * resources says so. Pure: configured platforms and whatever facts are
 * known (before a run: the scenario alone; after prepare: the accelerator
 * and network that really ran; after the load steps: the pinning) in, the
 * audit out. The runner records it in run.json; reports recompute it from
 * the record.
 */
import { formatBytes } from '../scenario/units.js';

export type Resource = 'cpus' | 'memory' | 'threads' | 'network' | 'accelerator' | 'pinning';

export interface AuditedPlatform {
  name: string;
  kind: string;
  cpus: number | null;
  memoryBytes: number | null;
  /** Network mode as configured (docker: host | bridge); VMs use QEMU user networking. */
  network?: string | null;
  /** Accelerator as configured (qemu/vagrant: auto | kvm | tcg). */
  accel?: string | null;
}

export interface FairnessInput {
  platforms: readonly AuditedPlatform[];
  /** The scenario's shared resources block, when it has one. */
  resources?: { cpus: number | null; memoryBytes: number | null } | null;
  /** ONNX Runtime intra-op threads (workload.threads: one value for every platform). */
  threads: number | null;
  device?: string | null;
  /** Host CPUs, to say where CPU pinning is possible before a run. */
  hostCpus?: number | null;
  /** environment.platforms after prepare: the accelerator and network that ran. */
  facts?: Readonly<Record<string, Readonly<Record<string, string | number | boolean | null>>>>;
  /** What the load steps did about pinning, per platform (sample metadata.pinning). */
  pinning?: Readonly<Record<string, string>>;
  /** After a run: whether it measured under load at all (without load nothing is pinned). */
  loadMeasured?: boolean;
}

export interface PlatformResources {
  platform: string;
  kind: string;
  /** Each resource as this platform got it, in words. */
  values: Record<Resource, string>;
}

export interface ResourceDifference {
  resource: Resource;
  values: Array<{ platform: string; value: string }>;
  /**
   * unequal: something the scenario sets (or its consequence) differs, so the
   * comparison is not like for like; inherent: the substrates differ by
   * nature (a hypervisor or none, QEMU user networking or host networking).
   */
  nature: 'unequal' | 'inherent';
  text: string;
}

export interface ResourceOverride {
  platform: string;
  resource: 'cpus' | 'memory';
  value: string;
  shared: string;
}

export interface FairnessAudit {
  platforms: PlatformResources[];
  differences: ResourceDifference[];
  overrides: ResourceOverride[];
  /** No unequal difference. */
  equal: boolean;
}

const isVm = (kind: string) => kind === 'qemu' || kind === 'vagrant';

function networkOf(p: AuditedPlatform, facts: Record<string, unknown> | undefined): string {
  if (typeof facts?.network === 'string') return facts.network;
  if (isVm(p.kind)) return 'user-hostfwd';
  return p.network ?? 'unknown';
}

function acceleratorOf(p: AuditedPlatform, facts: Record<string, unknown> | undefined, device: string | null | undefined): string {
  const gpu = device === 'gpu' ? ' + GPU' : '';
  if (!isVm(p.kind)) return `none (native)${gpu}`;
  const accel = typeof facts?.accel === 'string' ? facts.accel : p.accel ?? 'unknown';
  if (accel === 'tcg') return `tcg (emulated)${gpu}`;
  if (accel === 'auto') return `auto (KVM if a probe boot works, else TCG)${gpu}`;
  return `${accel}${gpu}`;
}

function pinningOf(p: AuditedPlatform, input: FairnessInput): string {
  const seen = input.pinning?.[p.name];
  if (seen) return seen;
  if (input.loadMeasured === false) return 'no load measured';
  if (input.loadMeasured === true) return 'not recorded';
  if (input.hostCpus == null || p.cpus == null) return 'decided during load';
  const spare = input.hostCpus - Math.ceil(p.cpus) >= 1;
  return spare ? `pinnable during load (${p.cpus} of ${input.hostCpus} CPUs)` : `not pinnable (${p.cpus} of ${input.hostCpus} CPUs: none left for the load generator)`;
}

const cpusText = (n: number | null) => (n == null ? 'unknown' : `${n} CPU${n === 1 ? '' : 's'}`);
const memoryText = (n: number | null) => (n == null ? 'unknown' : formatBytes(n));

export function auditFairness(input: FairnessInput): FairnessAudit {
  const platforms: PlatformResources[] = input.platforms.map((p) => {
    const facts = input.facts?.[p.name];
    const threads = input.threads == null ? 'unknown' : `${input.threads}${p.cpus != null && input.threads > p.cpus ? ` (more than its ${cpusText(p.cpus)}: oversubscribed)` : ''}`;
    return {
      platform: p.name,
      kind: p.kind,
      values: {
        cpus: cpusText(p.cpus),
        memory: memoryText(p.memoryBytes),
        threads,
        network: networkOf(p, facts),
        accelerator: acceleratorOf(p, facts, input.device),
        pinning: pinningOf(p, input),
      },
    };
  });
  const differences: ResourceDifference[] = [];
  const differ = (resource: Resource, nature: (vals: PlatformResources[]) => 'unequal' | 'inherent', why = '') => {
    const distinct = new Set(platforms.map((p) => p.values[resource]));
    if (distinct.size < 2) return;
    const values = platforms.map((p) => ({ platform: p.platform, value: p.values[resource] }));
    differences.push({ resource, values, nature: nature(platforms), text: `${resource}: ${values.map((v) => `${v.platform} ${v.value}`).join(', ')}${why}` });
  };
  const sameKindDiffers = (resource: Resource) => (ps: PlatformResources[]) =>
    ps.some((a) => ps.some((b) => a.kind === b.kind && a.values[resource] !== b.values[resource])) ? 'unequal' : 'inherent';
  differ('cpus', () => 'unequal');
  differ('memory', () => 'unequal');
  differ('threads', () => 'unequal');
  differ('network', sameKindDiffers('network'));
  differ('accelerator', sameKindDiffers('accelerator'));
  // Only what the load steps really did can be unequal; a prediction before the run is not a difference yet.
  if (input.pinning && Object.keys(input.pinning).length) {
    const pinnedOf = (v: string) => (v.startsWith('not pinned') ? 'not pinned' : v.startsWith('decided') ? v : 'pinned');
    const states = new Set(platforms.map((p) => pinnedOf(p.values.pinning)));
    if (states.size > 1) differ('pinning', () => 'unequal', ' (one instance had CPUs of its own during load, another shared them with the load generator)');
  }
  const overrides: ResourceOverride[] = [];
  const shared = input.resources;
  for (const p of input.platforms) {
    if (shared?.cpus != null && p.cpus != null && p.cpus !== shared.cpus) overrides.push({ platform: p.name, resource: 'cpus', value: cpusText(p.cpus), shared: cpusText(shared.cpus) });
    if (shared?.memoryBytes != null && p.memoryBytes != null && p.memoryBytes !== shared.memoryBytes) {
      overrides.push({ platform: p.name, resource: 'memory', value: memoryText(p.memoryBytes), shared: memoryText(shared.memoryBytes) });
    }
  }
  return { platforms, differences, overrides, equal: !differences.some((d) => d.nature === 'unequal') };
}

/** The unequal differences (and overrides) as one warning line, or null when the comparison is like for like. */
export function fairnessWarning(audit: FairnessAudit): string | null {
  const unequal = audit.differences.filter((d) => d.nature === 'unequal');
  if (unequal.length === 0) return null;
  const overrides = audit.overrides.length ? `; overriding resources: ${audit.overrides.map((o) => `${o.platform} ${o.resource} ${o.value} (shared ${o.shared})`).join(', ')}` : '';
  return `unequal resources — ${unequal.map((d) => d.text).join('; ')}${overrides}: the comparison is not like for like`;
}
