import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { loadScenario, parseScenarioLocated } from '../../src/scenario/load.js';

const parse = (lines: string[]) => parseScenarioLocated(lines.join('\n'), 's.yaml').scenario;
function errorOf(lines: string[]): string {
  try {
    parse(lines);
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('input');
    return (err as BenchError).message;
  }
  throw new Error('expected the scenario to be refused');
}

const HEAD = ['name: g'];
const MEASURE = ['measurements:', '  startup: {}'];

describe('GPU scenario keys', () => {
  it('scenarios/gpu-resnet.yaml: device gpu, the container takes all GPUs, the VM one by VFIO, the gpu measurement', async () => {
    const s = await loadScenario('scenarios/gpu-resnet.yaml');
    expect(s.workload).toMatchObject({ device: 'gpu', model: 'resnet50' });
    expect(s.workload.fallback).toBeUndefined(); // never implied
    expect(s.platforms[0]).toMatchObject({ kind: 'docker', gpus: 'all' });
    expect(s.platforms[1]).toMatchObject({ kind: 'qemu', vfio: ['0000:65:00.0'], machine: 'auto', accel: 'auto' });
    expect(s.measurements.gpu).toEqual({ repetitions: 1, batch_sizes: [1, 8, 32], requests: 100, warmup: 10, timeout: 30_000, sample_interval: 500 });
  });

  it('GPU ids as numbers or UUIDs; PCI addresses as sysfs writes them', () => {
    const s = parse([...HEAD, 'workload: { model: resnet18, device: gpu, fallback: cpu, gpu: { providers: /opt/ort-cuda } }', 'platforms:',
      "  - { name: c, kind: docker, cpus: 1, memory: 1GiB, gpus: [0, 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b'] }",
      "  - { name: v, kind: vagrant, cpus: 1, memory: 1GiB, pci: ['0000:19:00.0'] }", ...MEASURE]);
    expect(s.platforms[0]).toMatchObject({ gpus: ['0', 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b'] });
    expect(s.platforms[1]).toMatchObject({ pci: ['0000:19:00.0'] });
    expect(s.workload).toMatchObject({ fallback: 'cpu', gpu: { providers: '/opt/ort-cuda' } });
  });

  it('a GPU VM needs its PCI address, q35 (or auto) and KVM (or auto) — each at its key', () => {
    expect(errorOf([...HEAD, 'workload: { model: resnet18, device: gpu }', 'platforms:', '  - { name: v, kind: qemu, cpus: 1, memory: 1GiB }', ...MEASURE])).toBe(
      's.yaml:4:5: platforms[0].vfio: missing required key "vfio": with workload.device: gpu a qemu VM needs the PCI address(es) of the GPU to pass through, e.g. vfio: ["0000:65:00.0"] (`bench doctor` lists this host\'s NVIDIA GPUs)',
    );
    const m = errorOf([...HEAD, 'workload: { model: resnet18, device: gpu }', 'platforms:', "  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, machine: pc, accel: tcg, vfio: ['0000:19:00.0'] }", ...MEASURE]);
    expect(m).toContain('s.yaml:4:60: platforms[0].machine: expected machine q35 (or auto, which picks q35) with vfio');
    expect(m).toContain('s.yaml:4:71: platforms[0].accel: expected accel kvm (or auto) with vfio: device passthrough needs KVM, got "tcg"');
    expect(errorOf([...HEAD, 'workload: { model: resnet18, device: gpu }', 'platforms:', '  - { name: v, kind: vagrant, cpus: 1, memory: 1GiB }', ...MEASURE])).toContain('platforms[0].pci: missing required key "pci"');
  });

  it('GPU keys on a CPU workload are refused rather than ignored', () => {
    const m = errorOf([...HEAD, 'workload: { model: resnet18, fallback: cpu }', 'platforms:', '  - { name: c, kind: docker, cpus: 1, memory: 1GiB, gpus: all }', 'measurements:', '  gpu: {}']);
    expect(m).toContain('workload.fallback: expected workload.device: gpu with workload.fallback');
    expect(m).toContain('platforms[0].gpus: expected workload.device: gpu with gpus');
    expect(m).toContain('measurements.gpu: expected workload.device: gpu with measurements.gpu');
  });

  it('malformed values say what is expected', () => {
    expect(errorOf([...HEAD, 'workload: { model: resnet18, device: gpu }', 'platforms:', "  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, vfio: ['19:00.0'] }", ...MEASURE])).toContain(
      'platforms[0].vfio[0]: expected a PCI address as sysfs writes it, domain:bus:device.function in lower-case hex (e.g. "0000:65:00.0"',
    );
    expect(errorOf([...HEAD, 'workload: { model: resnet18, device: gpu, fallback: gpu }', 'platforms:', '  - { name: c, kind: docker, cpus: 1, memory: 1GiB, gpus: some }', ...MEASURE])).toMatch(/platforms\[0\]\.gpus: expected "all" or a list of GPU indexes or UUIDs/);
  });
});
