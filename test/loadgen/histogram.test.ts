import { describe, expect, it } from 'vitest';
import { LatencyHistogram, mergeEncoded } from '../../src/loadgen/histogram.js';
import { mergeLoadResults } from '../../src/loadgen/aggregate.js';
import { RunRecorder, cpuOver } from '../../src/loadgen/result.js';
import { renderLoadResult } from '../../src/loadgen/render.js';
import { BenchError } from '../../src/errors.js';

describe('LatencyHistogram', () => {
  it('reports percentiles in ms within 0.1 %', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.recordMs(i / 100); // 0.01 … 100 ms
    const s = h.summaryMs();
    expect(s.min).toBeCloseTo(0.01, 3);
    expect(s.p50).toBeGreaterThan(50 * 0.999);
    expect(s.p50).toBeLessThan(50 * 1.001);
    expect(s.p99).toBeGreaterThan(99 * 0.999);
    expect(s.p99).toBeLessThan(99 * 1.001);
    expect(s.p999).toBeGreaterThan(99.9 * 0.999);
    expect(s.max).toBeGreaterThan(100 * 0.999);
    expect(s.mean).toBeGreaterThan(50 * 0.999);
    expect(s.mean).toBeLessThan(50.01 * 1.001);
  });

  it('clamps values outside 1 µs … 60 s and is all zero when empty', () => {
    const h = new LatencyHistogram();
    expect(h.summaryMs()).toEqual({ min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    h.recordMs(0);
    h.recordMs(120_000);
    expect(h.count).toBe(2);
    expect(h.summaryMs().min).toBe(0.001);
    expect(h.summaryMs().max).toBeGreaterThanOrEqual(60_000 * 0.999);
  });

  it('encode → decode round trip keeps every percentile', () => {
    const h = new LatencyHistogram();
    let x = 1;
    for (let i = 0; i < 5000; i++) {
      x = (x * 48271) % 2147483647;
      h.recordMs((x % 200_000) / 1000 + 0.05);
    }
    const enc = h.encode();
    expect(typeof enc).toBe('string');
    expect(enc.length).toBeLessThan(20_000);
    const back = LatencyHistogram.decode(enc);
    expect(back.count).toBe(h.count);
    expect(back.summaryMs()).toEqual(h.summaryMs());
  });

  it('merges histograms (directly and from encodings)', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 900; i++) a.recordMs(1);
    for (let i = 0; i < 100; i++) b.recordMs(100);
    const m = mergeEncoded([a.encode(), b.encode()]);
    expect(m.count).toBe(1000);
    expect(m.percentileMs(50)).toBeCloseTo(1, 2);
    expect(m.percentileMs(95)).toBeCloseTo(100, 0);
    a.merge(b);
    expect(a.summaryMs()).toEqual(m.summaryMs());
  });

  it('rejects a string that is not an encoded histogram', () => {
    expect(() => LatencyHistogram.decode('not-a-histogram', 'runs[0].histogram')).toThrow(/runs\[0\]\.histogram/);
    expect(() => LatencyHistogram.decode('not-a-histogram')).toThrow(BenchError);
  });
});

describe('results: aggregate and render', () => {
  function fake(latencies: number[], errors: number, durationMs: number) {
    const rec = new RunRecorder();
    for (const l of latencies) rec.response(200, l);
    for (let i = 0; i < errors; i++) rec.response(500, 1);
    rec.sent = latencies.length + errors;
    return rec.toResult({ mode: 'closed', connections: 4, durationMs, cpu: cpuOver({ user: 100_000, system: 50_000 }, durationMs), stoppedBy: 'duration' });
  }

  it('merges stored results through their histograms', () => {
    const a = fake(Array(90).fill(2), 1, 1000);
    const b = fake(Array(10).fill(50), 2, 1000);
    expect(a.errors).toEqual({ http_500: 1 });
    const m = mergeLoadResults([a, b]);
    expect(m.requests).toBe(100);
    expect(m.errors).toEqual({ http_500: 3 });
    expect(m.reqPerSec).toBeCloseTo(50, 5);
    expect(m.latencyMs.p50).toBeCloseTo(2, 2);
    expect(m.latencyMs.p99).toBeCloseTo(50, 1);
    expect(m.loadgenCpu.cores).toBeCloseTo(0.15, 5);
    expect(m.connections).toBe(4);
    expect(() => mergeLoadResults([])).toThrow(BenchError);
  });

  it('renders a short summary', () => {
    const text = renderLoadResult(fake([1, 2, 3], 1, 1000));
    expect(text).toMatch(/closed loop, 4 connections, 1\.0 s: 3 ok \(3\.0 req\/s\), 1 errors \(http_500 1\), 0 timeouts/);
    expect(text).toMatch(/p99/);
    expect(text).toMatch(/0\.15 cores/);
  });
});
