import { afterEach, describe, expect, it } from 'vitest';
import { containerCreateOptions } from '../../../src/platforms/docker/create-options.js';
import { detectDockerGpuHost, resolveContainerGpu } from '../../../src/platforms/docker/gpu-host.js';
import { chooseDockerGpuAccess, type ContainerGpu, type DockerGpuHost } from '../../../src/platforms/docker/gpu-options.js';
import { fixtureHost, type FixtureHost } from '../host/fixture-host.js';

const spec = { runId: 'r1', instanceId: 'container-startup-0', port: 18080, threads: 2, modelName: 'model' };
const base = { cpus: 2, memoryBytes: 2 ** 31, network: 'host' as const };
const LD = 'LD_LIBRARY_PATH=/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64:/usr/local/nvidia/lib64:/opt/vmbench/nvidia-guest/lib';
const CPU_ENV = ['VMBENCH_HOST=127.0.0.1', 'VMBENCH_PORT=18080', 'VMBENCH_THREADS=2', 'VMBENCH_MODEL_NAME=model'];

let host: FixtureHost | undefined;
afterEach(async () => host?.cleanup());

async function dockerHost(name: string, info: { Runtimes?: Record<string, unknown>; CDISpecDirs?: string[] } = { Runtimes: { runc: {} } }): Promise<DockerGpuHost> {
  host = await fixtureHost(name);
  return detectDockerGpuHost(info, { root: host.root, run: host.run, pathEnv: '/usr/bin' });
}

describe('container GPU access: the exact create-container options', () => {
  it('CPU scenarios are untouched (no GPU key, no device env)', () => {
    const o = containerCreateOptions('img', 'container', base, spec);
    expect(o.Env).toEqual(CPU_ENV);
    expect(o.HostConfig?.DeviceRequests).toBeUndefined();
    expect(o.HostConfig?.Devices).toBeUndefined();
    expect(o.Labels?.['vmbench.gpu']).toBeUndefined();
  });

  it('NVIDIA toolkit present: DeviceRequests as `docker run --gpus all` sends them', async () => {
    const h = await dockerHost('gpu-toolkit');
    expect(h.runtimeHook).toBe('/usr/bin/nvidia-container-runtime-hook');
    const gpu: ContainerGpu = { access: chooseDockerGpuAccess(h, 'all'), selection: 'all', fallback: false };
    const o = containerCreateOptions('img', 'container', { ...base, gpu }, spec);
    expect(o.HostConfig?.DeviceRequests).toEqual([{ Driver: '', Count: -1, DeviceIDs: [], Capabilities: [['gpu', 'compute', 'utility']], Options: {} }]);
    expect(o.HostConfig?.Devices).toBeUndefined();
    expect(o.HostConfig?.Binds).toBeUndefined();
    expect(o.Env).toEqual([...CPU_ENV, 'VMBENCH_DEVICE=gpu', LD, 'NVIDIA_DRIVER_CAPABILITIES=compute,utility']);
    expect(o.Labels?.['vmbench.gpu']).toBe('device-requests');
    // The rest of the body is the CPU one.
    expect(o.HostConfig).toMatchObject({ Runtime: 'runc', NetworkMode: 'host', NanoCpus: 2e9, Memory: 2 ** 31, MemorySwap: 2 ** 31 });
  });

  it('selected GPUs by index or UUID: DeviceIDs, Count 0 (`--gpus \'"device=0,GPU-…"\'`)', async () => {
    const h = await dockerHost('gpu-toolkit');
    const selection = ['0', 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b'];
    const o = containerCreateOptions('img', 'c', { ...base, gpu: { access: chooseDockerGpuAccess(h, selection), selection, fallback: true } }, spec);
    expect(o.HostConfig?.DeviceRequests).toEqual([{ Driver: '', Count: 0, DeviceIDs: selection, Capabilities: [['gpu', 'compute', 'utility']], Options: {} }]);
    expect(o.Env).toContain('VMBENCH_FALLBACK=cpu');
  });

  it('CDI (Docker 25+ with spec dirs, an nvidia.com/gpu spec): driver "cdi", qualified device names', () => {
    const h: DockerGpuHost = { runtimeHook: null, runtimes: ['runc'], cdiSpecDirs: ['/etc/cdi'], cdiNvidiaSpecs: ['/etc/cdi/nvidia.yaml'], driver: { gpuNodes: [], controlNodes: [], libraries: [], missingLibraries: [] }, gpus: [] };
    const access = chooseDockerGpuAccess(h, 'all');
    expect(access).toEqual({ mode: 'cdi', via: 'CDI (/etc/cdi/nvidia.yaml)' });
    const o = containerCreateOptions('img', 'c', { ...base, gpu: { access, selection: ['0'], fallback: false } }, spec);
    expect(o.HostConfig?.DeviceRequests).toEqual([{ Driver: 'cdi', Count: 0, DeviceIDs: ['nvidia.com/gpu=0'], Capabilities: [], Options: {} }]);
  });

  it('no toolkit, driver present: device nodes and driver libraries passed explicitly, and labelled so', async () => {
    const h = await dockerHost('gpu-bound-nvidia');
    const access = chooseDockerGpuAccess(h, 'all');
    expect(access.mode).toBe('explicit');
    const o = containerCreateOptions('img', 'c', { ...base, gpu: { access, selection: 'all', fallback: false } }, spec);
    expect(o.HostConfig?.DeviceRequests).toBeUndefined();
    expect(o.HostConfig?.Devices).toEqual(
      ['/dev/nvidia0', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools'].map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })),
    );
    expect(o.HostConfig?.Binds).toEqual([
      '/usr/lib/x86_64-linux-gnu/libcuda.so.1:/usr/local/nvidia/lib64/libcuda.so.1:ro',
      '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1:/usr/local/nvidia/lib64/libnvidia-ml.so.1:ro',
      '/usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.1:/usr/local/nvidia/lib64/libnvidia-ptxjitcompiler.so.1:ro',
      '/usr/lib/x86_64-linux-gnu/libnvidia-nvvm.so.4:/usr/local/nvidia/lib64/libnvidia-nvvm.so.4:ro',
      '/usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.570.124.06:/usr/local/nvidia/lib64/libnvidia-gpucomp.so.570.124.06:ro',
    ]);
    expect(o.Labels?.['vmbench.gpu']).toBe('explicit');
    expect(o.Env).not.toContainEqual(expect.stringMatching(/^CUDA_VISIBLE_DEVICES=/));
    // A selection hides the other GPUs from CUDA by UUID (nothing else would).
    const sel = chooseDockerGpuAccess(h, ['0']);
    const o2 = containerCreateOptions('img', 'c', { ...base, gpu: { access: sel, selection: ['0'], fallback: false } }, spec);
    expect(o2.Env).toContain('CUDA_VISIBLE_DEVICES=GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b');
  });

  it('no way in: none, naming each missing piece; an unknown GPU id is named too', async () => {
    const h = await dockerHost('no-gpu');
    expect(chooseDockerGpuAccess(h, 'all')).toEqual({
      mode: 'none',
      reason:
        'no NVIDIA container toolkit (nvidia-container-runtime-hook) and no CDI spec, and passing the GPU explicitly needs a /dev/nvidia<N> device node (there is none: is the NVIDIA kernel driver loaded?), /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools, libcuda.so.1 (the NVIDIA driver\'s user-space library)',
    });
    await host!.cleanup();
    const g = await dockerHost('gpu-bound-nvidia');
    expect(chooseDockerGpuAccess(g, ['3'])).toMatchObject({ mode: 'none', reason: expect.stringContaining('GPU "3" (not an index or UUID nvidia-smi lists)') });
  });
});

describe('resolveContainerGpu (prepare)', () => {
  const runc = { name: 'runc', gvisor: false, runtimeArgs: [] };

  it('no way in fails (exit 3) unless fallback: cpu, which records it', async () => {
    const h = await dockerHost('no-gpu');
    await expect(resolveContainerGpu({ selection: 'all', fallback: false }, runc, async () => h)).rejects.toMatchObject({ kind: 'unsupported', message: expect.stringMatching(/^docker: no way to give the container a GPU: /) });
    const r = await resolveContainerGpu({ selection: 'all', fallback: true }, runc, async () => h);
    expect(r.facts).toMatchObject({ gpuAccess: 'none', gpuSelection: 'all', gpuAccessDetail: expect.stringMatching(/\(fallback: cpu\)$/) });
    const o = containerCreateOptions('img', 'c', { ...base, gpu: r.gpu }, spec);
    expect(o.HostConfig?.DeviceRequests).toBeUndefined();
    expect(o.Env).toEqual(expect.arrayContaining(['VMBENCH_DEVICE=gpu', 'VMBENCH_FALLBACK=cpu'])); // the server is still asked, falls back and says so
  });

  it('gVisor reaches a GPU only with --nvproxy', async () => {
    const h = await dockerHost('gpu-toolkit');
    await expect(resolveContainerGpu({ selection: 'all', fallback: false }, { name: 'runsc', gvisor: true, runtimeArgs: ['--platform=ptrace'] }, async () => h)).rejects.toThrow(/runsc \(gVisor\) runs without --nvproxy/);
    const ok = await resolveContainerGpu({ selection: 'all', fallback: false }, { name: 'runsc', gvisor: true, runtimeArgs: ['--nvproxy'] }, async () => h);
    expect(ok.gpu.access.mode).toBe('device-requests');
  });
});
