/**
 * The scenario-level `resources:` block: CPUs and memory set once for every
 * platform, so a comparison is like for like unless a platform overrides one
 * (the fairness audit reports each override and each remaining difference).
 * A platform's own `cpus` / `memory` win; a platform with neither its own
 * value nor a shared one is an error at that platform.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { describeValue, formatBytes, parseSize, sizeSchema } from './units.js';

export const resourcesSchema = z
  .strictObject({
    cpus: z.number().positive().max(LIMITS.maxCpus).optional().meta({
      description: 'CPUs of every platform (container quota, VM vCPUs: a whole number when a VM takes it), unless a platform sets its own.',
    }),
    memory: sizeSchema({ min: LIMITS.minContainerMemoryBytes, max: LIMITS.maxMemoryBytes }).optional().meta({
      description: 'Memory of every platform (container limit, VM RAM: at least 64MiB when a VM takes it), unless a platform sets its own: a size such as "1GiB".',
    }),
  })
  .meta({
    description:
      'Resources given to every platform, so the comparison is like for like; a platform may still set its own cpus or memory (the report names every override and every difference).',
  });

export type ResourcesConfig = z.output<typeof resourcesSchema>;

export interface ResourceIssue {
  path: (string | number)[];
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const VM_KINDS = new Set(['qemu', 'vagrant']);

/**
 * Which platforms lack cpus or memory once the shared block applies, and where
 * a shared value does not suit a VM (fractional vCPUs, too little RAM). Works
 * on raw data, like the scenario's other cross-field rules.
 */
export function resourceIssues(raw: Record<string, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  if (!Array.isArray(raw.platforms)) return issues;
  const shared = isRecord(raw.resources) ? raw.resources : {};
  raw.platforms.forEach((p: unknown, i) => {
    if (!isRecord(p) || typeof p.kind !== 'string') return;
    const name = typeof p.name === 'string' ? p.name : `platforms[${i}]`;
    const vm = VM_KINDS.has(p.kind);
    if (p.cpus === undefined) {
      if (shared.cpus === undefined) {
        issues.push({ path: ['platforms', i, 'cpus'], message: `missing required key "cpus" (give ${name} its own cpus, or set resources.cpus for every platform)` });
      } else if (vm && typeof shared.cpus === 'number' && !Number.isInteger(shared.cpus)) {
        issues.push({ path: ['resources', 'cpus'], message: `expected a whole number of CPUs: ${p.kind} platform ${name} takes resources.cpus as vCPUs, got ${describeValue(shared.cpus)} (give ${name} its own cpus)` });
      }
    }
    if (p.memory === undefined) {
      if (shared.memory === undefined) {
        issues.push({ path: ['platforms', i, 'memory'], message: `missing required key "memory" (give ${name} its own memory, or set resources.memory for every platform)` });
      } else if (vm && typeof shared.memory === 'string') {
        let bytes: number | null = null;
        try {
          bytes = parseSize(shared.memory);
        } catch {
          bytes = null; // the schema reports a malformed size
        }
        if (bytes !== null && bytes < LIMITS.minVmMemoryBytes) {
          issues.push({ path: ['resources', 'memory'], message: `expected at least ${formatBytes(LIMITS.minVmMemoryBytes)}: ${p.kind} platform ${name} takes resources.memory as guest RAM, got ${describeValue(shared.memory)} (give ${name} its own memory)` });
        }
      }
    }
  });
  return issues;
}

/** A platform whose cpus and memory are settled (its own, or the shared block's); distributes over a union of platform kinds. */
export type WithResources<P> = P extends unknown ? Omit<P, 'cpus' | 'memory'> & { cpus: number; memory: number } : never;

/** Every platform with its cpus and memory filled from the shared block where it has none (after validation, so both exist). */
export function applyResources<P extends { cpus?: number; memory?: number }>(platforms: readonly P[], resources: ResourcesConfig | undefined): Array<WithResources<P>> {
  return platforms.map((p) => ({ ...p, cpus: p.cpus ?? resources?.cpus ?? Number.NaN, memory: p.memory ?? resources?.memory ?? Number.NaN }) as unknown as WithResources<P>);
}
