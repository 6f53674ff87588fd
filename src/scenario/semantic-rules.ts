/**
 * The scenario's rules that span several fields (unique platform names,
 * resources every platform can take, a report reference that names a
 * platform, rates for open-loop throughput). Kept apart from the schema,
 * which runs them in a refinement, because the loader also runs them on raw
 * data next to the schema's own checks.
 */
import { gpuSemanticIssues } from './gpu.js';
import { hostReferenceIssues } from './hosts.js';
import { resourceIssues } from './resources.js';

export interface SemanticIssue {
  path: (string | number)[];
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Rules that span several fields. Takes raw (possibly invalid) data and looks
 * only at the parts that are well-formed, so it can run next to the schema's
 * own checks and every problem is reported at once.
 */
export function scenarioSemanticIssues(raw: unknown): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  if (!isRecord(raw)) return issues;

  if (Array.isArray(raw.platforms)) {
    const seen = new Map<string, number>();
    raw.platforms.forEach((platform: unknown, i) => {
      if (!isRecord(platform) || typeof platform.name !== 'string') return;
      const first = seen.get(platform.name);
      if (first === undefined) {
        seen.set(platform.name, i);
      } else {
        issues.push({
          path: ['platforms', i, 'name'],
          message: `expected unique platform names, got "${platform.name}" again (already used by platforms[${first}])`,
        });
      }
    });
  }

  issues.push(...resourceIssues(raw));
  issues.push(...imagePlatformIssues(raw));
  issues.push(...gpuSemanticIssues(raw));
  issues.push(...hostReferenceIssues(raw));

  const report = raw.report;
  if (isRecord(report) && typeof report.reference === 'string' && Array.isArray(raw.platforms)) {
    const names = raw.platforms.filter(isRecord).map((p) => p.name).filter((n): n is string => typeof n === 'string');
    if (!names.includes(report.reference)) {
      issues.push({
        path: ['report', 'reference'],
        message: `expected the name of a platform of this scenario (${names.map((n) => `"${n}"`).join(', ')}), got "${report.reference}"`,
      });
    }
  }

  const measurements = raw.measurements;
  const throughput = isRecord(measurements) ? measurements.throughput : undefined;
  if (isRecord(throughput)) {
    const mode = throughput.mode ?? 'closed';
    if (mode === 'open' && throughput.rates === undefined) {
      issues.push({
        path: ['measurements', 'throughput', 'rates'],
        message: 'missing required key "rates": open mode needs a list of request rates (req/s), e.g. rates: [10, 50]',
      });
    }
    if (mode === 'closed' && throughput.rates !== undefined) {
      issues.push({
        path: ['measurements', 'throughput', 'rates'],
        message: 'expected no "rates" in closed mode (rates apply to mode: open; closed mode uses connections)',
      });
    }
  }
  return issues;
}

/**
 * An image workload's server binds its own address and port: a container
 * must have a network of its own (bridge, published on 127.0.0.1 only),
 * never the host's; and Vagrant boxes are built for the built-in server only.
 */
function imagePlatformIssues(raw: Record<string, unknown>): SemanticIssue[] {
  if (!isRecord(raw.workload) || raw.workload.image === undefined || !Array.isArray(raw.platforms)) return [];
  const out: SemanticIssue[] = [];
  raw.platforms.forEach((p: unknown, i) => {
    if (!isRecord(p)) return;
    if (p.kind === 'docker' && p.network !== 'bridge') {
      out.push({
        path: ['platforms', i, 'network'],
        message: `expected network: bridge for an image workload (its server binds its own address; bridge publishes it on 127.0.0.1 only), got ${p.network === undefined ? 'the default, host' : JSON.stringify(p.network)}`,
      });
    }
    if (p.kind === 'vagrant') {
      out.push({ path: ['platforms', i, 'kind'], message: 'kind: vagrant cannot run an image workload yet (its boxes carry the built-in server); use kind: qemu, which boots the same disk' });
    }
  });
  return out;
}
