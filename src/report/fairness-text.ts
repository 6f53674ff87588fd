import type { FairnessAudit, Resource } from '../results/fairness.js';

export const RESOURCE_TITLES: Record<Resource, string> = {
  cpus: 'CPUs',
  memory: 'memory',
  threads: 'ONNX Runtime threads',
  network: 'network path',
  accelerator: 'accelerator',
  pinning: 'CPU pinning during load',
};

/** The audit as lines: the unequal differences first, then the inherent ones, then the overrides of the shared resources. Pure. */
export function fairnessLines(audit: FairnessAudit): string[] {
  const lines: string[] = [];
  for (const d of audit.differences.filter((x) => x.nature === 'unequal')) lines.push(`unequal ${RESOURCE_TITLES[d.resource]}: ${d.values.map((v) => `${v.platform} ${v.value}`).join(', ')}`);
  for (const d of audit.differences.filter((x) => x.nature === 'inherent')) lines.push(`${RESOURCE_TITLES[d.resource]} differs by substrate (inherent): ${d.values.map((v) => `${v.platform} ${v.value}`).join(', ')}`);
  for (const o of audit.overrides) lines.push(`${o.platform} overrides resources.${o.resource}: ${o.value} instead of the shared ${o.shared}`);
  return lines;
}

/** Resource × platform cells, for a table. */
export function fairnessTable(audit: FairnessAudit): { header: string[]; rows: string[][] } {
  const header = ['resource', ...audit.platforms.map((p) => p.platform)];
  const rows = (Object.keys(RESOURCE_TITLES) as Resource[]).map((r) => {
    const d = audit.differences.find((x) => x.resource === r);
    const mark = d ? (d.nature === 'unequal' ? ' ⚠ unequal' : ' (differs by substrate)') : '';
    return [`${RESOURCE_TITLES[r]}${mark}`, ...audit.platforms.map((p) => p.values[r])];
  });
  return { header, rows };
}
