/**
 * Flags shared by the gate commands (compare, baseline save, calibrate-noise):
 * parsed once, each failure a BenchError of kind "input" (exit 2) that names
 * the flag and what it expected. A flag beats the scenario's gate block,
 * which beats the default.
 */
import { BenchError } from '../errors.js';
import { DEFAULT_ALPHA } from '../gate/compare.js';
import { DEFAULT_POWER, DEFAULT_TARGET } from '../gate/sensitivity.js';
import { parsePercent } from '../scenario/gate-key.js';
import type { GateConfig } from '../scenario/schema.js';

/** A probability strictly between 0 and 1. */
function probability(flag: string, text: string): number {
  const v = Number(text);
  if (!(v > 0 && v < 1)) throw new BenchError('input', `${flag} must be a number in (0, 1), got "${text}"`);
  return v;
}

export function parseAlpha(text: string | undefined, gate: GateConfig | undefined): number {
  return text !== undefined ? probability('--alpha', text) : (gate?.alpha ?? DEFAULT_ALPHA);
}

export function parsePower(text: string | undefined, gate: GateConfig | undefined): number {
  return text !== undefined ? probability('--power', text) : (gate?.power ?? DEFAULT_POWER);
}

/** "--target 10%" → 0.1. */
export function parseTarget(text: string | undefined, gate: GateConfig | undefined): number {
  if (text === undefined) return gate?.target_change ?? DEFAULT_TARGET;
  const v = parsePercent(text);
  if (typeof v === 'string') throw new BenchError('input', `--target: ${v}`);
  return v;
}

/** A count of runs (--runs K): a whole number ≥ min. */
export function parseRunCount(text: string, min: number, flag = '--runs'): number {
  const k = Number(text);
  if (!Number.isInteger(k) || k < min) throw new BenchError('input', `${flag} must be a whole number ≥ ${min}, got "${text}"`);
  return k;
}

/** The gate block a run recorded with its scenario (run.json keeps the parsed scenario). */
export function gateOfRecord(record: { scenario: unknown } | undefined): GateConfig | undefined {
  const scenario = record?.scenario as { gate?: GateConfig } | undefined;
  return scenario?.gate;
}
