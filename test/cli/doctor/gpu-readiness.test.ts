import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gatherGpuFindings } from '../../../src/cli/doctor/gpu-gather.js';
import { CPU_POINTER, gpuDoctorChecks, gpuProblems, gpuWantsOf, type GpuWants } from '../../../src/cli/doctor/gpu-readiness.js';
import { parseScenarioLocated } from '../../../src/scenario/load.js';
import { fixtureHost, type FixtureHost } from '../../platforms/host/fixture-host.js';
import { writeProviderSet } from '../../workload/fake-elf.js';

/**
 * The doctor's (and the run preflight's) GPU decisions, from whole fixture
 * hosts (test/fixtures/gpu/hosts: SYNTHETIC but for the probe's RECORDED
 * no-driver output): GPU present or absent, IOMMU off, the GPU bound to
 * nvidia or to vfio-pci.
 */

const GPU = '0000:19:00.0';
let host: FixtureHost | undefined;
let libs: string;
beforeEach(async () => {
  libs = await mkdtemp(join(tmpdir(), 'vmbench-doctor-libs-'));
});
afterEach(async () => {
  await host?.cleanup();
  await rm(libs, { recursive: true, force: true });
});

const scenario = (platforms: string) =>
  parseScenarioLocated(['name: g', 'workload: { model: resnet18, device: gpu }', 'platforms:', platforms, 'measurements:', '  startup: {}'].join('\n'), 'g.yaml').scenario;
const BOTH = `  - { name: c, kind: docker, cpus: 1, memory: 1GiB }\n  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, vfio: ['${GPU}'] }`;

async function findings(name: string, w: GpuWants, withLibs = true) {
  host = await fixtureHost(name);
  if (withLibs) await writeProviderSet(libs);
  return gatherGpuFindings(w, { docker: null, root: host.root, run: host.run, probePath: host.probePath, probeExists: () => true, searchDirs: [libs], withDocker: true });
}

const byName = (checks: ReturnType<typeof gpuDoctorChecks>) => Object.fromEntries(checks.map((c) => [c.name, c]));

describe('GPU decisions from fixture hosts', () => {
  it('GPU present, held by nvidia, no toolkit: the container goes in explicitly; the VM cannot have it until it is on vfio-pci', async () => {
    const w = gpuWantsOf(scenario(BOTH));
    const f = await findings('gpu-bound-nvidia', w);
    const problems = gpuProblems(f, w);
    expect(problems.map((p) => p.path.join('.'))).toEqual(['workload.device', 'platforms.1.vfio', 'platforms.1.vfio', 'workload.gpu.guest_driver']);
    expect(problems[0]!.message).toBe(`device: gpu cannot run on this host (what it lacks is listed at each key); ${CPU_POINTER}`);
    expect(problems[1]!.message).toMatch(new RegExp(`^${GPU}: IOMMU group 17 is not all vfio-pci's: ${GPU} \\(nvidia\\); as root: modprobe vfio-pci && `));
    const c = byName(gpuDoctorChecks(f, null));
    expect(c['NVIDIA driver (nvidia-smi)']).toMatchObject({ status: 'ok', detail: `0: NVIDIA H200 GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b ${GPU}, 143771 MiB, driver 570.124.06` });
    expect(c['GPU probe (CUDA runtime)']!.status).toBe('ok');
    expect(c['container GPU access']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^explicit: explicit device nodes and driver libraries/) });
    expect(c['IOMMU']).toMatchObject({ status: 'ok', detail: '18 groups (kernel command line: intel_iommu=on iommu=pt); vfio-pci not loaded' });
    expect(c[`GPU ${GPU} for VM passthrough`]).toMatchObject({ status: 'info', detail: expect.stringContaining('not on vfio-pci (vmbench never rebinds it by itself)'), fix: expect.stringContaining(`bench doctor --bind-vfio ${GPU}`) });
    expect(c['ONNX Runtime CUDA provider']!.status).toBe('ok');
  });

  it('GPU on vfio-pci: the VM is ready, the container has no GPU (the host driver does not see it)', async () => {
    const w = gpuWantsOf(scenario(BOTH));
    const f = await findings('gpu-bound-vfio', w);
    const paths = gpuProblems(f, w).map((p) => p.path.join('.'));
    expect(paths).not.toContain('platforms.1.vfio');
    expect(paths.slice(0, 3)).toEqual(['workload.device', 'workload.device', 'platforms.0.gpus']);
    const c = byName(gpuDoctorChecks(f, null));
    expect(c[`GPU ${GPU} for VM passthrough`]).toMatchObject({ status: 'ok', detail: expect.stringContaining('every function on vfio-pci') });
    expect(c['NVIDIA driver (nvidia-smi)']).toMatchObject({ status: 'info', detail: 'nvidia-smi: No devices were found' });
    // A VM-only scenario on this host has nothing in the way but the guest driver.
    const vmOnly = gpuWantsOf(scenario(`  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, vfio: ['${GPU}'] }`));
    expect(gpuProblems(await findings('gpu-bound-vfio', vmOnly), vmOnly).map((p) => p.path.join('.'))).toEqual(['workload.device', 'workload.gpu.guest_driver']);
  });

  it('IOMMU off: the VM problem says how to turn it on; the doctor says VFIO is not possible', async () => {
    const w = gpuWantsOf(scenario(`  - { name: v, kind: qemu, cpus: 1, memory: 1GiB, vfio: ['${GPU}'] }`));
    const f = await findings('iommu-off', w);
    expect(gpuProblems(f, w).find((p) => p.path.join('.') === 'platforms.0.vfio')!.message).toMatch(/^the IOMMU is off: \/sys\/kernel\/iommu_groups is empty; enable VT-d/);
    const c = byName(gpuDoctorChecks(f, null));
    expect(c['IOMMU']).toMatchObject({ status: 'info', detail: 'off: /sys/kernel/iommu_groups is empty; VFIO passthrough to VMs is not possible' });
    expect(c[`GPU ${GPU} for VM passthrough`]).toMatchObject({ status: 'info', detail: expect.stringContaining('no IOMMU group (IOMMU off)') });
  });

  it('no GPU (like this machine): every missing piece, the RECORDED probe answer, and with --scenario they fail', async () => {
    const w = gpuWantsOf(scenario(BOTH));
    const f = await findings('no-gpu', w, false);
    const problems = gpuProblems(f, w);
    expect(problems[1]).toEqual({
      path: ['workload', 'device'],
      message: 'no usable NVIDIA GPU for a container: nvidia-smi not found (no NVIDIA driver installed); GPU probe: no NVIDIA driver: libcuda.so.1 could not be loaded (cudaGetDeviceCount: cudaErrorInsufficientDriver (CUDA driver version is insufficient for CUDA runtime version))',
    });
    const providers = problems.filter((p) => p.path.join('.') === 'workload.gpu.providers');
    // First where it looked (the key is not set here), then each missing library.
    expect(providers[0]!.message).toBe(`the CUDA execution provider is incomplete: 8 of its libraries are in none of ${libs} (workload.gpu.providers is not set)`);
    expect(providers.slice(1).map((p) => p.message.split(' ')[0])).toEqual([
      'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9',
    ]);
    expect(problems.find((p) => p.path.join('.') === 'platforms.1.vfio')!.message).toMatch(/^the IOMMU is off/);
    const failing = gpuDoctorChecks(f, problems).filter((c) => c.status === 'fail');
    expect(failing.map((c) => c.detail)).toEqual(problems.map((p) => p.message)); // the doctor says what the run says
    // Given where each sits in the file (as bench run prints it), the doctor names it there too.
    const placed = gpuDoctorChecks(f, problems.map((p, i) => ({ ...p, at: `g.yaml:${i + 1}:3` }))).filter((c) => c.status === 'fail');
    expect(placed[0]!.name).toBe('scenario g.yaml:1:3 workload.device');
    expect(gpuDoctorChecks(f, null).some((c) => c.status === 'fail')).toBe(false); // without a scenario a GPU-less host is fine
  });

  it('the NVIDIA toolkit makes containers use DeviceRequests', async () => {
    const w = gpuWantsOf(scenario('  - { name: c, kind: docker, cpus: 1, memory: 1GiB }'));
    const f = await findings('gpu-toolkit', w);
    expect(gpuProblems(f, w)).toEqual([]);
    expect(byName(gpuDoctorChecks(f, null))['container GPU access']!.detail).toBe("device-requests: the engine's NVIDIA device driver (/usr/bin/nvidia-container-runtime-hook)");
  });
});
