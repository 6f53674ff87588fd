import type { FailureCategory } from '../errors.js';

/**
 * One step of a run that failed: which measurement on which platform, why
 * (its category) and in which segment of the run (a resumed run has several).
 * Its samples, if it wrote any before failing, stay in samples.jsonl but are
 * not counted (see countedSamples); a later segment may retry the step.
 */
export interface StepFailure {
  step: number;
  measurement: string;
  platform: string;
  rep: number;
  warmup: boolean;
  category: FailureCategory;
  message: string;
  /** 0 for the first segment of the run, 1 for the first resume, … */
  segment: number;
  /** ISO time of the failure. */
  at: string;
}

/** One uninterrupted stretch of a run: the first invocation, then each `bench run --resume`. */
export interface RunSegment {
  index: number;
  startedAt: string;
  finishedAt: string | null;
  /** How the segment ended: completed (every step it ran is done or failed), interrupted, failed (it stopped at an error). */
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  /** Steps this segment ran (successfully or not). */
  stepsRun: number;
  pid: number;
  hostname: string;
  /** Why it stopped, when it did not complete. */
  error?: { kind: string; category: FailureCategory; message: string };
}

/** What each category means, for the summary, the report and `--help`. */
export const FAILURE_DESCRIPTIONS: Record<FailureCategory, string> = {
  boot_timeout: 'the instance never became ready (or never answered an inference) within the timeout',
  instance_died: 'the instance exited or vanished while it was measured',
  oom_killed: "the kernel's OOM killer ended it (its memory limit is too small for the workload)",
  engine_unavailable: 'the Docker Engine (or libvirt) could not be reached',
  port_conflict: 'a port the instance needed was already taken',
  disk_full: 'results, scratch disks or snapshots could not be written (no space left)',
  host_unreachable: "the remote host's connection was lost",
  mismatch: 'the substrates did not run the same artifact or compute the same answer',
  interrupted: 'the run was interrupted (SIGINT/SIGTERM)',
  infrastructure: 'another failure of an engine, a VM or the host',
  internal: 'a bug in vmbench',
};

/**
 * Failures that still stand: a step that failed and was not completed by a
 * later segment (a resume retries failed steps).
 */
export function standingFailures(failures: readonly StepFailure[], completed: Readonly<Record<string, number>>): StepFailure[] {
  return failures.filter((f) => completed[String(f.step)] === undefined);
}

/** How often each category occurred, most frequent first. */
export function countByCategory(failures: readonly StepFailure[]): Array<{ category: FailureCategory; count: number }> {
  const counts = new Map<FailureCategory, number>();
  for (const f of failures) counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
  return [...counts].map(([category, count]) => ({ category, count })).sort((a, b) => b.count - a.count || a.category.localeCompare(b.category));
}

/** "3 steps failed: 2 boot_timeout, 1 instance_died" (empty when none). */
export function failureLine(failures: readonly StepFailure[]): string {
  if (!failures.length) return '';
  const parts = countByCategory(failures).map((c) => `${c.count} ${c.category}`);
  return `${failures.length} step${failures.length === 1 ? '' : 's'} failed: ${parts.join(', ')}`;
}
