import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planGpuArtifact } from '../../../src/workload/build/gpu-artifact.js';
import { checkGuestDriver } from '../../../src/workload/build/vm/guest-driver.js';
import { fakeKernelModule, fakeSharedObject, writeProviderSet } from '../fake-elf.js';

const RELEASE = '6.1.0-41-cloud-amd64';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-gpu-artifact-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function guestDriver(o: { vermagic?: string; version?: string; libs?: string[]; noSmi?: boolean } = {}): Promise<string> {
  const d = join(dir, 'nvidia-guest');
  await mkdir(join(d, 'modules'), { recursive: true });
  await mkdir(join(d, 'lib'), { recursive: true });
  await mkdir(join(d, 'bin'), { recursive: true });
  const modinfo = { version: o.version ?? '570.124.06', license: 'Dual MIT/GPL', vermagic: o.vermagic ?? `${RELEASE} SMP mod_unload modversions ` };
  await writeFile(join(d, 'modules', 'nvidia.ko'), fakeKernelModule(modinfo));
  await writeFile(join(d, 'modules', 'nvidia-uvm.ko'), fakeKernelModule({ ...modinfo, depends: 'nvidia' }));
  for (const l of o.libs ?? ['libcuda.so.1', 'libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1']) await writeFile(join(d, 'lib', l), fakeSharedObject({ soname: l }));
  if (!o.noSmi) await writeFile(join(d, 'bin', 'nvidia-smi'), '#!/bin/sh\n');
  return d;
}

const ort = { nodeDir: '/nonexistent/onnxruntime-node', version: '1.30.0' };

describe('the GPU VM image\'s guest driver', () => {
  it('built for the guest kernel, complete: carried under /opt/vmbench/nvidia-guest', async () => {
    const c = await checkGuestDriver(await guestDriver(), RELEASE);
    expect([c.problems, c.driverVersion, c.builtFor]).toEqual([[], '570.124.06', RELEASE]);
    expect(c.files.map((f) => f.dest)).toEqual([
      '/opt/vmbench/nvidia-guest/modules/nvidia-uvm.ko', '/opt/vmbench/nvidia-guest/modules/nvidia.ko',
      '/opt/vmbench/nvidia-guest/lib/libcuda.so.1', '/opt/vmbench/nvidia-guest/lib/libnvidia-ml.so.1', '/opt/vmbench/nvidia-guest/lib/libnvidia-ptxjitcompiler.so.1',
      '/opt/vmbench/nvidia-guest/bin/nvidia-smi',
    ]);
  });

  it('built for another kernel, versions that differ, pieces missing: each said, with how', async () => {
    const d = await guestDriver({ vermagic: '6.8.0-51-generic SMP', libs: ['libcuda.so.1', 'libnvidia-ml.so.550.54.15'], noSmi: true });
    const c = await checkGuestDriver(d, RELEASE);
    expect(c.problems).toEqual([
      `${join(d, 'lib', 'libnvidia-ml.so.1')} is missing`,
      `${join(d, 'lib', 'libnvidia-ptxjitcompiler.so.1')} is missing`,
      `${join(d, 'bin', 'nvidia-smi')} is missing`,
      `${join(d, 'modules', 'nvidia.ko')} is built for kernel 6.8.0-51-generic, the guest runs ${RELEASE}: rebuild it for ${RELEASE}`,
      `${join(d, 'lib', 'libnvidia-ml.so.550.54.15')} is driver 550.54.15, the kernel module is 570.124.06: user space and module must be the same version`,
      expect.stringMatching(new RegExp(`^how: build the NVIDIA kernel modules for the guest kernel ${RELEASE.replaceAll('.', '\\.')} .*SYSSRC=/usr/src/linux-headers-${RELEASE.replaceAll('.', '\\.')}`)),
    ]);
    expect((await checkGuestDriver(undefined, null)).problems[0]).toMatch(/^the GPU VM image needs the NVIDIA driver for its guest kernel and workload\.gpu\.guest_driver is not set: /);
  });
});

describe('planGpuArtifact', () => {
  it('complete: the provider set and the guest driver are carried, their names recorded', async () => {
    await writeProviderSet(join(dir, 'cuda'));
    const p = await planGpuArtifact({ searchDirs: [join(dir, 'cuda')], needsGuestDriver: true, guestDriverDir: await guestDriver(), allowMissing: false }, ort, RELEASE);
    expect(p.info.missing).toEqual([]);
    expect(p.info.providerLibraries).toContain('libonnxruntime_providers_cuda.so');
    expect(p.info.fromDriver).toEqual(['libcuda.so.1']);
    expect(p.info.guestDriver).toEqual({ version: '570.124.06', builtFor: RELEASE });
    expect(p.files.filter((f) => f.dest.startsWith('/opt/vmbench/nvidia-guest/'))).toHaveLength(6);
    expect(p.inputs).toMatchObject({ guestDriver: { version: '570.124.06', builtFor: RELEASE }, init: expect.stringContaining('vmbench GPU guest init wrapper') });
  });

  it('missing pieces fail the build naming each — unless fallback: cpu, which carries no partial set and records why', async () => {
    await writeProviderSet(join(dir, 'cuda'), ['libcudnn.so.9']);
    const o = { searchDirs: [join(dir, 'cuda')], needsGuestDriver: false, allowMissing: false };
    await expect(planGpuArtifact(o, ort, RELEASE)).rejects.toMatchObject({
      kind: 'unsupported',
      message: expect.stringMatching(/^the GPU artifact cannot be built:\n {2}- libcudnn\.so\.9 \(needed by libonnxruntime_providers_cuda\.so\) is missing: get cuDNN 9 for CUDA 12/),
    });
    const fb = await planGpuArtifact({ ...o, allowMissing: true }, ort, RELEASE);
    expect(fb.files).toEqual([]);
    expect(fb.info.providerLibraries).toEqual([]);
    expect(fb.info.missing).toHaveLength(1);
  });
});
