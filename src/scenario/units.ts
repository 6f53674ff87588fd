/**
 * Durations and sizes as written in scenario files.
 *
 *   durations: "500ms", "30s", "2m", "1h", "1.5s"        → milliseconds
 *   sizes:     "512MiB", "1GiB", "2GB", "100KiB", "64B"  → bytes
 *
 * A unit is always required: a bare `30` could mean seconds or milliseconds and
 * a bare `1024` bytes or MiB, so both are rejected with a message that says so.
 * Sizes accept decimal units (KB, MB, GB, TB = 10^3…) and binary units
 * (KiB, MiB, GiB, TiB = 2^10…), case-sensitive, no space before the unit.
 */
import { z } from 'zod';
import { BenchError } from '../errors.js';

export const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
export type DurationUnit = keyof typeof DURATION_UNITS;

export const SIZE_UNITS = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
} as const;
export type SizeUnit = keyof typeof SIZE_UNITS;

/** ECMAScript regex source, also emitted as the JSON schema `pattern`. */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const SIZE_RE = new RegExp(SIZE_PATTERN);
const NUMBER_PREFIX_RE = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(.*?)\s*$/;

export const DURATION_EXPECTED = 'expected a duration such as "500ms", "30s" or "2m"';
export const SIZE_EXPECTED = 'expected a size such as "512MiB" or "2GiB"';

/** How a value found in a file is shown in messages: strings quoted, others as YAML would write them. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Why `input` is not a duration, or undefined when it is one. */
export function durationProblem(input: unknown): string | undefined {
  if (typeof input === 'string' && DURATION_RE.test(input)) return undefined;
  const got = `${DURATION_EXPECTED}, got ${describeValue(input)}`;
  const bare = bareNumber(input);
  if (bare !== undefined) {
    return `${got} (a unit is required: ms, s, m or h, e.g. "${bare}s" or "${bare}ms")`;
  }
  if (typeof input === 'string') {
    const m = NUMBER_PREFIX_RE.exec(input);
    if (m && m[2] && m[2] in DURATION_UNITS && m[1]) {
      return `${got} (write it without a space: "${m[1]}${m[2]}")`;
    }
    if (m && m[2]) return `${got} (unknown unit "${m[2]}"; use ms, s, m or h)`;
  }
  return got;
}

/** Why `input` is not a size, or undefined when it is one. */
export function sizeProblem(input: unknown): string | undefined {
  if (typeof input === 'string' && SIZE_RE.test(input)) {
    const bytes = sizeToBytes(input);
    return Number.isInteger(bytes) ? undefined : `${SIZE_EXPECTED}, got ${describeValue(input)} (not a whole number of bytes)`;
  }
  const got = `${SIZE_EXPECTED}, got ${describeValue(input)}`;
  const bare = bareNumber(input);
  if (bare !== undefined) {
    return `${got} (a unit is required, e.g. "${bare}MiB" or "${bare}B"; units: B, KB, MB, GB, KiB, MiB, GiB)`;
  }
  if (typeof input === 'string') {
    const m = NUMBER_PREFIX_RE.exec(input);
    if (m && m[2] && m[2] in SIZE_UNITS && m[1]) {
      return `${got} (write it without a space: "${m[1]}${m[2]}")`;
    }
    if (m && m[2]) {
      return `${got} (unknown unit "${m[2]}"; use B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024))`;
    }
  }
  return got;
}

/** "30" or 30 → "30"; anything else → undefined. */
function bareNumber(input: unknown): string | undefined {
  if (typeof input === 'number' && Number.isFinite(input) && input >= 0) return String(input);
  if (typeof input === 'string' && /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(input)) return input.trim();
  return undefined;
}

function durationToMs(text: string): number {
  const m = DURATION_RE.exec(text);
  if (!m) return Number.NaN;
  const num = text.slice(0, text.length - (m[2] ?? '').length);
  return Number(num) * DURATION_UNITS[m[2] as DurationUnit];
}

function sizeToBytes(text: string): number {
  const m = SIZE_RE.exec(text);
  if (!m) return Number.NaN;
  const num = text.slice(0, text.length - (m[2] ?? '').length);
  const bytes = Number(num) * SIZE_UNITS[m[2] as SizeUnit];
  // "1.1GB" is 1100000000.0000002 in floating point: snap near-integers.
  const rounded = Math.round(bytes);
  return Math.abs(bytes - rounded) < 1e-6 * Math.max(1, bytes) ? rounded : bytes;
}

/** "1.5s" → 1500. Throws BenchError('input') saying what was expected and found. */
export function parseDuration(text: string): number {
  const problem = durationProblem(text);
  if (problem !== undefined) throw new BenchError('input', problem);
  return durationToMs(text);
}

/** "2GiB" → 2147483648. Throws BenchError('input') saying what was expected and found. */
export function parseSize(text: string): number {
  const problem = sizeProblem(text);
  if (problem !== undefined) throw new BenchError('input', problem);
  return sizeToBytes(text);
}

function trimNumber(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}

/**
 * Human form of a duration in milliseconds: "0.25ms", "500ms", "1.5s", "2m",
 * "2m 5s", "1h 30m". Values under a minute round-trip through parseDuration.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1_000) {
    const digits = ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : 3;
    const text = trimNumber(ms, digits);
    return text === '1000' ? '1s' : `${text}ms`;
  }
  if (ms < 60_000) {
    const text = trimNumber(ms / 1_000, ms < 10_000 ? 2 : 1);
    return text === '60' ? '1m' : `${text}s`;
  }
  if (ms < 3_600_000) {
    let minutes = Math.floor(ms / 60_000);
    let seconds = Math.round((ms - minutes * 60_000) / 1_000);
    if (seconds === 60) {
      minutes += 1;
      seconds = 0;
    }
    if (minutes === 60) return '1h';
    return seconds === 0 ? `${minutes}m` : `${minutes}m ${seconds}s`;
  }
  let hours = Math.floor(ms / 3_600_000);
  let minutes = Math.round((ms - hours * 3_600_000) / 60_000);
  if (minutes === 60) {
    hours += 1;
    minutes = 0;
  }
  return minutes === 0 ? `${hours}h` : `${hours}h ${minutes}m`;
}

/**
 * Human form of a byte count in binary units: "512B", "100KiB", "1.5GiB",
 * "1.95GiB" (at most two decimals). Exact values round-trip through parseSize.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (bytes < 0) return `-${formatBytes(-bytes)}`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let i = 0;
  while (i < units.length - 1 && Number(value.toFixed(2)) >= 1024) {
    value /= 1024;
    i += 1;
  }
  return `${trimNumber(value, i === 0 ? 0 : 2)}${units[i]}`;
}

export interface BoundsOptions {
  /** Smallest allowed value (milliseconds or bytes), inclusive. */
  min?: number;
  /** Largest allowed value (milliseconds or bytes), inclusive. */
  max?: number;
  /** Reject zero. */
  positive?: boolean;
}

function boundsProblem(
  value: number,
  input: string,
  opts: BoundsOptions,
  format: (n: number) => string,
  noun: string,
): string | undefined {
  if (opts.positive && value <= 0) return `expected a ${noun} greater than zero, got ${describeValue(input)}`;
  if (opts.min !== undefined && value < opts.min) {
    return `expected a ${noun} of at least ${format(opts.min)}, got ${describeValue(input)}`;
  }
  if (opts.max !== undefined && value > opts.max) {
    return `expected a ${noun} of at most ${format(opts.max)}, got ${describeValue(input)}`;
  }
  return undefined;
}

/**
 * Zod schema: a duration string in, milliseconds out. The input side is a
 * string with a `pattern`, so the JSON schema gives editors the same check.
 */
export function durationSchema(opts: BoundsOptions = {}) {
  return z
    .string({ error: (iss) => durationProblem(iss.input) })
    .regex(DURATION_RE, { error: (iss) => durationProblem(iss.input) })
    .transform((text, ctx) => {
      const ms = durationToMs(text);
      const problem = boundsProblem(ms, text, opts, formatDuration, 'duration');
      if (problem !== undefined) {
        ctx.issues.push({ code: 'custom', message: problem, input: text });
        return z.NEVER;
      }
      return ms;
    })
    .meta({
      description: 'A duration: a number followed by a unit (ms, s, m or h), e.g. "500ms", "30s", "2m", "1.5s".',
    });
}

/** Zod schema: a size string in, bytes out. */
export function sizeSchema(opts: BoundsOptions = {}) {
  return z
    .string({ error: (iss) => sizeProblem(iss.input) })
    .regex(SIZE_RE, { error: (iss) => sizeProblem(iss.input) })
    .transform((text, ctx) => {
      const problem = sizeProblem(text) ?? boundsProblem(sizeToBytes(text), text, opts, formatBytes, 'size');
      if (problem !== undefined) {
        ctx.issues.push({ code: 'custom', message: problem, input: text });
        return z.NEVER;
      }
      return sizeToBytes(text);
    })
    .meta({
      description:
        'A size: a number followed by a unit, B, KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), e.g. "512MiB", "2GiB".',
    });
}
