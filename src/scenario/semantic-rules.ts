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
