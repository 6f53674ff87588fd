/**
 * Highest sustainable arrival rate: a short search of open-loop steps for the
 * highest rate whose p99 stays within the SLO and whose error rate (errors +
 * timeouts + dropped) stays ≤ maxErrorRate. Doubles from startRate until a
 * step fails (or maxRate passes), then bisects between the best passing and
 * the lowest failing rate until they are within `tolerance` of each other.
 * The number of steps is bounded by maxSteps.
 */
import { BenchError } from '../errors.js';
import { runOpenLoop } from './open-loop.js';
import { checkDuration, checkNumber } from './options.js';
import { errorRate, type LoadResult } from './result.js';
import type { TargetSpec } from './target.js';

export interface MaxRateOptions {
  target: TargetSpec;
  sloP99Ms: number;
  startRate: number;
  maxRate: number;
  stepDurationMs: number;
  /** Warm-up per step (not measured). Default 0. */
  warmupMs?: number;
  /** Per request; also the longest drain after each step. Default max(1000, 2·sloP99Ms), ≤ 60 s. */
  timeoutMs?: number;
  maxConnections?: number;
  /** Default 0.01. */
  maxErrorRate?: number;
  /** Stop bisecting when (fail − pass) ≤ tolerance · pass. Default 0.05. */
  tolerance?: number;
  /** Default 12. */
  maxSteps?: number;
  /** Pause between steps so the server settles. Default 0 (each step already drains). */
  cooldownMs?: number;
  signal?: AbortSignal;
  onStep?: (step: RateStep) => void;
}

export interface RateStep {
  rate: number;
  pass: boolean;
  /** Why a step failed. */
  reason?: string;
  p99Ms: number;
  errorRate: number;
  result: LoadResult;
}

export interface MaxRateResult {
  /** Highest passing rate, 0 when none passed. */
  rate: number;
  /** The lowest failing rate, if any step failed. */
  failedAt?: number;
  steps: RateStep[];
  /** Why the search ended. */
  stoppedBy: 'converged' | 'maxRate' | 'maxSteps' | 'signal';
}

export function judgeStep(result: LoadResult, sloP99Ms: number, maxErrorRate: number): { pass: boolean; reason?: string } {
  const er = errorRate(result);
  if (result.requests === 0) return { pass: false, reason: 'no successful response' };
  if (er > maxErrorRate) return { pass: false, reason: `error rate ${(er * 100).toFixed(1)} % > ${(maxErrorRate * 100).toFixed(1)} %` };
  if (result.latencyMs.p99 > sloP99Ms) return { pass: false, reason: `p99 ${result.latencyMs.p99.toFixed(1)} ms > ${sloP99Ms} ms` };
  return { pass: true };
}

const roundRate = (r: number): number => (r >= 10 ? Math.round(r) : Math.round(r * 100) / 100);

export async function findMaxSustainableRate(options: MaxRateOptions): Promise<MaxRateResult> {
  const sloP99Ms = checkNumber('sloP99Ms', options.sloP99Ms, { min: 0.001, max: 60_000 });
  const maxRate = checkNumber('maxRate', options.maxRate, { min: 0.001, max: 1_000_000 });
  const startRate = checkNumber('startRate', options.startRate, { min: 0.001, max: maxRate });
  const stepDurationMs = checkDuration('stepDurationMs', options.stepDurationMs);
  const maxErrorRate = checkNumber('maxErrorRate', options.maxErrorRate ?? 0.01, { min: 0, max: 1 });
  const tolerance = checkNumber('tolerance', options.tolerance ?? 0.05, { min: 0.001, max: 1 });
  const maxSteps = checkNumber('maxSteps', options.maxSteps ?? 12, { min: 1, max: 100, integer: true });
  const cooldownMs = checkNumber('cooldownMs', options.cooldownMs ?? 0, { min: 0, max: 60_000 });
  const timeoutMs = options.timeoutMs ?? Math.min(60_000, Math.max(1000, 2 * sloP99Ms));
  const signal = options.signal;

  const steps: RateStep[] = [];
  let pass = 0;
  let fail: number | undefined;

  const step = async (rate: number): Promise<boolean> => {
    if (steps.length > 0 && cooldownMs > 0) await new Promise((r) => setTimeout(r, cooldownMs));
    const result = await runOpenLoop({
      target: options.target,
      rate,
      durationMs: stepDurationMs,
      warmupMs: options.warmupMs ?? 0,
      timeoutMs,
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(signal !== undefined ? { signal } : {}),
    });
    const verdict = judgeStep(result, sloP99Ms, maxErrorRate);
    const s: RateStep = { rate, ...verdict, p99Ms: result.latencyMs.p99, errorRate: errorRate(result), result };
    if (result.stoppedBy === 'signal') return false; // an interrupted step decides nothing
    steps.push(s);
    options.onStep?.(s);
    if (s.pass) pass = Math.max(pass, rate);
    else fail = fail === undefined ? rate : Math.min(fail, rate);
    return true;
  };
  const out = (stoppedBy: MaxRateResult['stoppedBy']): MaxRateResult => ({
    rate: pass,
    ...(fail !== undefined ? { failedAt: fail } : {}),
    steps,
    stoppedBy,
  });

  // Exponential phase.
  let rate = startRate;
  for (;;) {
    if (signal?.aborted) return out('signal');
    if (steps.length >= maxSteps) return out('maxSteps');
    if (!(await step(rate))) return out('signal');
    if (fail !== undefined) break;
    if (rate >= maxRate) return out('maxRate');
    rate = Math.min(maxRate, roundRate(rate * 2));
  }
  // Bisection between the best pass (or 0) and the lowest failure.
  for (;;) {
    const hi = fail as number;
    if (hi - pass <= tolerance * Math.max(pass, hi / 2)) return out('converged');
    const mid = roundRate((pass + hi) / 2);
    if (mid <= pass || mid >= hi) return out('converged');
    if (signal?.aborted) return out('signal');
    if (steps.length >= maxSteps) return out('maxSteps');
    if (!(await step(mid))) return out('signal');
  }
}

/** Throws when the search found no passing rate at all (for callers that need one). */
export function requireRate(r: MaxRateResult, sloP99Ms: number): number {
  if (r.rate > 0) return r.rate;
  const first = r.steps[0];
  throw new BenchError('input', `no rate met p99 ≤ ${sloP99Ms} ms${first ? ` (lowest tried ${first.rate} req/s: ${first.reason ?? ''})` : ''}`, {
    hint: 'lower startRate or relax sloP99Ms',
  });
}
