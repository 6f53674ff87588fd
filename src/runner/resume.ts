import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from '../errors.js';
import { standingFailures } from '../results/failure.js';
import type { StoredRun } from '../results/read-run.js';
import type { RunRecord } from '../results/run-record.js';
import type { Answer } from './identity.js';
import type { PlanStep } from './plan.js';

/**
 * `bench run --resume <run-dir>`: the same plan (same scenario, same seed)
 * continued in the same directory. A step counts once, from the segment that
 * completed it; steps a previous segment did not complete (cut off by the
 * interrupt, failed, never reached) run now, in plan order. The answers of the
 * identity proof taken before are kept beside run.json and restored.
 */

export const IDENTITY_FILE = 'identity-answers.json';

/** A digest of the plan: a resume runs only where the rebuilt plan is the one the run began with. */
export function planDigest(steps: readonly PlanStep[]): string {
  const h = createHash('sha256');
  for (const s of steps) h.update(`${s.index}|${s.measurement}|${s.platform}|${s.rep}|${s.warmup}|${s.rides ?? ''}|${s.identity ? 1 : 0}\n`);
  return `sha256:${h.digest('hex')}`;
}

/** Why a stored run cannot be resumed, or null. */
export function resumeRefusal(stored: StoredRun): string | null {
  const r = stored.record;
  if (r.status === 'preparing' && !r.plan.steps) return null; // interrupted before the plan existed: it starts over, same run id
  if (r.completed === undefined) return 'it was recorded by a vmbench without resume (no completed steps in run.json)';
  if (r.status === 'running' || r.status === 'preparing') return null; // killed: its last segment never ended
  if (r.status === 'completed' && standingFailures(r.failures ?? [], r.completed).length === 0 && Object.keys(r.completed).length >= r.plan.steps) {
    return 'it completed: every step is done';
  }
  return null;
}

export function checkResumable(stored: StoredRun): void {
  const why = resumeRefusal(stored);
  if (why) {
    throw new BenchError('input', `cannot resume ${stored.dir}: ${why}`, { hint: 'start a new run with `bench run <scenario>`' });
  }
}

/** The artifact must be the one the run measured. */
export function checkSameArtifact(record: RunRecord, artifactId: string): void {
  if (record.artifact && record.artifact.id !== artifactId) {
    throw new BenchError('input', `cannot resume ${record.runId}: it measured artifact ${record.artifact.id}, this build gives ${artifactId}`, {
      hint: 'the workload changed since the run began (model, server or rootfs); start a new run',
    });
  }
}

/** The rebuilt plan must be the stored one. */
export function checkSamePlan(record: RunRecord, steps: readonly PlanStep[]): void {
  const digest = planDigest(steps);
  if (record.plan.digest && record.plan.digest !== digest) {
    throw new BenchError('input', `cannot resume ${record.runId}: its plan (${record.plan.steps} steps) differs from the one this vmbench builds from the same scenario (${steps.length} steps)`, {
      hint: 'a resume needs the vmbench version that began the run; start a new run otherwise',
    });
  }
}

/** The steps still to run, in plan order. */
export function pendingSteps(steps: readonly PlanStep[], completed: Readonly<Record<string, number>>): PlanStep[] {
  return steps.filter((s) => completed[String(s.index)] === undefined);
}

export function readIdentityAnswers(dir: string): Answer[] {
  const path = join(dir, IDENTITY_FILE);
  if (!existsSync(path)) return [];
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as Answer[]) : [];
  } catch {
    return []; // torn by a crash: those platforms answer again
  }
}
