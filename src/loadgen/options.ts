/** Up-front checks of load-run options; each message names the option and its value. */
import { BenchError } from '../errors.js';

/** Every run is bounded: at most one hour per window, 60 s per request. */
export const MAX_DURATION_MS = 3_600_000;
export const MAX_TIMEOUT_MS = 60_000;

export function checkNumber(
  option: string,
  value: unknown,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    const kind = integer ? 'an integer' : 'a number';
    throw new BenchError('input', `${option}: ${JSON.stringify(value)} is not ${kind} in [${min}, ${max}]`);
  }
  return value;
}

export function checkDuration(option: string, value: unknown, min = 1): number {
  return checkNumber(option, value, { min, max: MAX_DURATION_MS });
}

export function checkTimeout(option: string, value: unknown): number {
  return checkNumber(option, value, { min: 1, max: MAX_TIMEOUT_MS });
}

/** How often in-flight requests are checked against their timeout. */
export function sweepIntervalMs(timeoutMs: number): number {
  return Math.min(100, Math.max(5, Math.floor(timeoutMs / 10)));
}
