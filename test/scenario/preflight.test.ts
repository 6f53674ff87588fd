import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { parseScenarioLocated } from '../../src/scenario/load.js';
import { fallbackNotice, preflightError, preflightIssues, type HostFacts } from '../../src/scenario/preflight.js';

const TEXT = [
  'name: t', //                                                        1
  'workload: { model: resnet18, device: gpu }', //                     2
  'platforms:', //                                                     3
  '  - { name: c, kind: docker, cpus: 8, memory: 64GiB }', //          4
  "  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, vfio: ['0000:19:00.0'] }", // 5
  'measurements:', //                                                  6
  '  density: { max_instances: 2, memory_budget: 100GiB, slo_p99: 1s }', // 7
].join('\n');
const loaded = parseScenarioLocated(TEXT, 'p.yaml');
const host: HostFacts = { cpus: 2, memoryBytes: 24 * 2 ** 30, engines: { docker: null, qemu: null } };

describe('host preflight', () => {
  it('refuses more than the host has, at the key that asks for it', () => {
    const { input, unsupported } = preflightIssues(loaded, { ...host, gpu: [{ path: ['workload', 'device'], message: 'nvidia-smi not found' }] });
    expect(input.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual(['4:36 platforms[0].cpus', '4:47 platforms[0].memory', '7:47 measurements.density.memory_budget']);
    expect(input[0]!.message).toBe('expected at most 2 CPUs (all this host has), got 8');
    expect(unsupported.map((i) => i.path)).toEqual(['workload.device']);
    const err = preflightError(loaded, host);
    expect(err).toBeInstanceOf(BenchError);
    expect(err!.kind).toBe('input'); // the user's to fix: exit 2
    expect(err!.message).toContain('p.yaml:4:36: platforms[0].cpus');
  });

  it('a missing engine or device is the host\'s problem (exit 3), still located', () => {
    const ok = parseScenarioLocated(TEXT.replace('cpus: 8, memory: 64GiB', 'cpus: 1, memory: 1GiB').replace('100GiB', '2GiB'), 'p.yaml');
    const err = preflightError(ok, { ...host, engines: { docker: null, qemu: 'qemu-system-x86_64 not found' }, gpu: [{ path: ['workload', 'device'], message: 'nvidia-smi not found' }] })!;
    expect(err.kind).toBe('unsupported');
    expect(err.message).toContain('p.yaml:5:22: platforms[1].kind: this host cannot run qemu platforms: qemu-system-x86_64 not found');
    expect(err.message).toContain('workload.device');
    expect(preflightError(ok, { ...host, gpu: [] })).toBeNull();
  });

  it('each GPU problem is reported at its own key; fallback: cpu (written out) lets the run go on', () => {
    const text = TEXT.replace('cpus: 8, memory: 64GiB', 'cpus: 1, memory: 1GiB').replace('100GiB', '2GiB');
    const gpu = [
      { path: ['workload', 'device'], message: 'device: gpu cannot run on this host (what it lacks is listed at each key)' },
      { path: ['platforms', 1, 'vfio'], message: '0000:19:00.0: IOMMU group 17 is not all vfio-pci\'s' },
    ];
    const err = preflightError(parseScenarioLocated(text, 'p.yaml'), { ...host, gpu })!;
    expect(err.kind).toBe('unsupported');
    expect(err.message).toContain('p.yaml:2:38: workload.device: device: gpu cannot run on this host');
    expect(err.message).toMatch(/p\.yaml:5:\d+: platforms\[1\]\.vfio: 0000:19:00\.0: IOMMU group 17/);
    expect(err.hint).toBe('run `npx bench doctor --scenario p.yaml` for the same list and what this host has');
    const fallback = parseScenarioLocated(text.replace('device: gpu }', 'device: gpu, fallback: cpu }'), 'p.yaml');
    expect(preflightError(fallback, { ...host, gpu })).toBeNull();
    // …and says so before the run, naming the doctor; with nothing missing, or without fallback, nothing to say.
    expect(fallbackNotice(fallback, { ...host, gpu })).toMatch(/^p\.yaml: workload\.fallback: cpu — this host cannot run device: gpu as asked \(`npx bench doctor --scenario p\.yaml` says why\)/);
    expect(fallbackNotice(fallback, { ...host, gpu: [] })).toBeNull();
    expect(fallbackNotice(parseScenarioLocated(text, 'p.yaml'), { ...host, gpu })).toBeNull();
  });
});
