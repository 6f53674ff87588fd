import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import {
  durationSchema,
  formatBytes,
  formatDuration,
  parseDuration,
  parseSize,
  sizeSchema,
} from '../../src/scenario/units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0ms', 0],
    ['0s', 0],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0.5ms', 0.5],
    ['10ms', 10],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['30', 'a unit is required'],
    ['30 sec', 'unknown unit "sec"'],
    ['30 s', 'without a space: "30s"'],
    ['', 'got ""'],
    ['s', 'got "s"'],
    ['-1s', 'got "-1s"'],
    ['1.s', 'got "1.s"'],
    ['.5s', 'got ".5s"'],
    ['5S', 'unknown unit "S"'],
    ['1d', 'unknown unit "d"'],
    ['1m30s', 'got "1m30s"'],
  ])('rejects %j', (text, fragment) => {
    let error: unknown;
    try {
      parseDuration(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BenchError);
    expect((error as BenchError).kind).toBe('input');
    expect((error as BenchError).message).toContain('expected a duration such as "500ms", "30s" or "2m"');
    expect((error as BenchError).message).toContain(fragment);
  });
});

describe('parseSize', () => {
  it.each([
    ['512MiB', 512 * 2 ** 20],
    ['1GiB', 2 ** 30],
    ['2GB', 2e9],
    ['100KiB', 102_400],
    ['100KB', 100_000],
    ['64B', 64],
    ['0B', 0],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['1.1GB', 1_100_000_000],
    ['2MB', 2_000_000],
    ['1TiB', 2 ** 40],
  ])('%s → %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['1024', 'a unit is required'],
    ['2 gigs', 'unknown unit "gigs"'],
    ['2 GiB', 'without a space: "2GiB"'],
    ['2G', 'unknown unit "G"'],
    ['2gib', 'unknown unit "gib"'],
    ['1.5B', 'not a whole number of bytes'],
    ['-1GiB', 'got "-1GiB"'],
    ['GiB', 'got "GiB"'],
  ])('rejects %j', (text, fragment) => {
    expect(() => parseSize(text)).toThrow(BenchError);
    expect(() => parseSize(text)).toThrow('expected a size such as "512MiB" or "2GiB"');
    expect(() => parseSize(text)).toThrow(fragment);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [0.25, '0.25ms'],
    [1.234, '1.23ms'],
    [12.34, '12.3ms'],
    [500, '500ms'],
    [999.7, '1s'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [12_345, '12.3s'],
    [59_990, '1m'],
    [120_000, '2m'],
    [125_000, '2m 5s'],
    [3_600_000, '1h'],
    [5_400_000, '1h 30m'],
    [-1_500, '-1.5s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration below a minute', () => {
    for (const ms of [0, 5, 10, 250, 1_000, 1_500, 30_000, 120_000, 3_600_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0B'],
    [512, '512B'],
    [1_024, '1KiB'],
    [102_400, '100KiB'],
    [512 * 2 ** 20, '512MiB'],
    [1.5 * 2 ** 30, '1.5GiB'],
    [2 ** 30 - 1, '1GiB'],
    [2e9, '1.86GiB'],
    [3 * 2 ** 40, '3TiB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('round-trips exact values through parseSize', () => {
    for (const bytes of [0, 64, 1_024, 102_400, 2 ** 30, 1.5 * 2 ** 30]) {
      expect(parseSize(formatBytes(bytes))).toBe(bytes);
    }
  });
});

describe('zod schemas', () => {
  it('durationSchema converts to milliseconds', () => {
    expect(durationSchema().parse('2m')).toBe(120_000);
  });

  it('durationSchema explains a bare number', () => {
    const result = durationSchema().safeParse(30);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      'expected a duration such as "500ms", "30s" or "2m", got 30 (a unit is required: ms, s, m or h, e.g. "30s" or "30ms")',
    );
  });

  it('durationSchema names the found value', () => {
    const result = durationSchema().safeParse('30 sec');
    expect(result.error?.issues[0]?.message).toContain('expected a duration such as "500ms", "30s" or "2m", got "30 sec"');
  });

  it('durationSchema enforces bounds', () => {
    expect(durationSchema({ max: 10 }).safeParse('20ms').error?.issues[0]?.message).toBe(
      'expected a duration of at most 10ms, got "20ms"',
    );
    expect(durationSchema({ positive: true }).safeParse('0s').error?.issues[0]?.message).toBe(
      'expected a duration greater than zero, got "0s"',
    );
    expect(durationSchema({ max: 10 }).parse('10ms')).toBe(10);
  });

  it('sizeSchema converts to bytes and explains errors', () => {
    expect(sizeSchema().parse('2GiB')).toBe(2 * 2 ** 30);
    expect(sizeSchema().safeParse(1024).error?.issues[0]?.message).toContain('a unit is required');
    expect(sizeSchema().safeParse(null).error?.issues[0]?.message).toBe(
      'expected a size such as "512MiB" or "2GiB", got an empty value',
    );
    expect(sizeSchema({ min: 2 ** 20 }).safeParse('1KiB').error?.issues[0]?.message).toBe(
      'expected a size of at least 1MiB, got "1KiB"',
    );
  });
});
