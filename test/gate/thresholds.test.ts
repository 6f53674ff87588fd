import { describe, expect, it } from 'vitest';
import { matchesPattern, metricDirection, parseThresholdFlag, resolveThreshold } from '../../src/gate/thresholds.js';
import { parseGateKey, parsePercent } from '../../src/scenario/gate-key.js';

describe('metric directions', () => {
  it('lower is better for times, sizes, memory, latencies; higher for throughput, max rate, density count (by metric, not parameters)', () => {
    for (const m of ['startup', 'cold_start', 'phase_ready', 'image_size', 'memory_host', 'network_rtt_p99', 'latency_p99', 'snapshot_restore', 'snapshot_size', 'density_marginal_memory', 'density_p99']) {
      expect(metricDirection(m), m).toBe('lower');
    }
    for (const m of ['throughput', 'max_rate', 'density_max_instances']) expect(metricDirection(m), m).toBe('higher');
  });
});

describe('parsing', () => {
  it('percentages', () => {
    expect(parsePercent('10%')).toBe(0.1);
    expect(parsePercent(' 2.5 % ')).toBe(0.025);
    expect(parsePercent('0%')).toMatch(/above 0%/);
    expect(parsePercent('10')).toMatch(/percentage such as/);
  });
  it('gate keys', () => {
    expect(parseGateKey('startup.median')).toEqual({ pattern: 'startup', statistic: 'median' });
    expect(parseGateKey('cold_start')).toEqual({ pattern: 'cold_start', statistic: 'median' });
    expect(parseGateKey('throughput@r=10.5')).toEqual({ pattern: 'throughput@r=10.5', statistic: 'median' });
    expect(parseGateKey('latency_p99@c=4.median')).toEqual({ pattern: 'latency_p99@c=4', statistic: 'median' });
    expect(parseGateKey('phase_*')).toEqual({ pattern: 'phase_*', statistic: 'median' });
    expect(parseGateKey('startup.mean')).toMatch(/statistic/);
    expect(parseGateKey('boot')).toMatch(/metric name/);
  });
  it('CLI flags', () => {
    expect(parseThresholdFlag('startup.median=15%')).toEqual(['startup', 0.15]);
    expect(parseThresholdFlag('startup')).toMatch(/METRIC=PERCENT/);
  });
  it('patterns', () => {
    expect(matchesPattern('throughput@*', 'throughput@c=4')).toBe(true);
    expect(matchesPattern('phase_*', 'startup')).toBe(false);
    expect(matchesPattern('startup', 'startup')).toBe(true);
  });
});

describe('resolveThreshold', () => {
  it('CLI > scenario > default; exact names beat patterns; informational metrics are not gated by default', () => {
    expect(resolveThreshold('startup')).toMatchObject({ threshold: 0.1, gated: true, source: 'default' });
    expect(resolveThreshold('image_size').threshold).toBe(0.05);
    expect(resolveThreshold('latency_p99@c=1').threshold).toBe(0.2);
    expect(resolveThreshold('startup', { startup: 0.2, '*': 0.3 })).toMatchObject({ threshold: 0.2 });
    expect(resolveThreshold('cold_start', { startup: 0.2, '*': 0.3 })).toMatchObject({ threshold: 0.3 });
    expect(resolveThreshold('startup', { startup: 0.2 }, { startup: 0.05 })).toMatchObject({ threshold: 0.05 });
    expect(resolveThreshold('harness_exec_rtt').gated).toBe(false);
    expect(resolveThreshold('harness_exec_rtt', { harness_exec_rtt: 0.5 }).gated).toBe(true);
  });
});
