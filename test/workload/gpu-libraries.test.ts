import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORT_NATIVE_DIR, ortNodeDir } from '../../src/workload/build/rootfs/ort-files.js';
import { readElfDynamic } from '../../src/workload/elf-dynamic.js';
import { CUDNN9_SUBLIBRARIES, describeMissing, locateCudaProvider } from '../../src/workload/gpu-libraries.js';
import { fakeSharedObject, writeProviderSet } from './fake-elf.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-gpu-libs-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('ELF dynamic section', () => {
  it('reads onnxruntime-node\'s own libonnxruntime.so.1 as readelf -d does', async () => {
    const d = await readElfDynamic(join(ortNodeDir(), ORT_NATIVE_DIR, 'libonnxruntime.so.1'));
    expect(d).toEqual({ soname: 'libonnxruntime.so.1', needed: ['libdl.so.2', 'librt.so.1', 'libpthread.so.0', 'libstdc++.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libc.so.6', 'ld-linux-x86-64.so.2'], runpath: ['$ORIGIN'], rpath: [] });
  });

  it('reads a synthetic one, and is null for anything that is not ELF', async () => {
    await writeFile(join(dir, 'a.so'), fakeSharedObject({ soname: 'liba.so.1', needed: ['libb.so.2', 'libc.so.6'], runpath: '$ORIGIN:/opt/x' }));
    expect(await readElfDynamic(join(dir, 'a.so'))).toEqual({ soname: 'liba.so.1', needed: ['libb.so.2', 'libc.so.6'], runpath: ['$ORIGIN', '/opt/x'], rpath: [] });
    await writeFile(join(dir, 'text'), 'not an elf file at all, long enough to have a header ........................................');
    expect(await readElfDynamic(join(dir, 'text'))).toBeNull();
  });
});

describe('locateCudaProvider', () => {
  it('a complete set: every library the provider needs, recursively, cuDNN\'s sub-libraries, the driver\'s left out', async () => {
    await writeProviderSet(dir);
    const plan = await locateCudaProvider([dir], '1.30.0');
    expect(plan.missing).toEqual([]);
    expect(plan.files.map((f) => f.name)).toEqual([
      'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so',
      'libcublasLt.so.12', 'libcublas.so.12', 'libcudnn.so.9', 'libcurand.so.10', 'libcufft.so.11', 'libcudart.so.12',
      ...CUDNN9_SUBLIBRARIES,
    ]);
    expect(plan.files.every((f) => f.dest === `/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/${f.name}` && f.src === join(dir, f.name))).toBe(true);
    expect(plan.fromDriver).toEqual(['libcuda.so.1']);
  });

  it('names each missing library, who needs it, how to get it, and another major version when one is there', async () => {
    await writeProviderSet(dir, ['libcufft.so.11', 'libcudnn_ops.so.9']);
    await writeFile(join(dir, 'libcufft.so.10'), fakeSharedObject({ soname: 'libcufft.so.10' }));
    const plan = await locateCudaProvider([dir], '1.30.0');
    expect(plan.missing.map((m) => [m.name, m.neededBy, m.otherVersion])).toEqual([
      ['libcufft.so.11', 'libonnxruntime_providers_cuda.so', `libcufft.so.10 in ${dir}`],
      ['libcudnn_ops.so.9', 'libcudnn.so.9 (loads it at run time)', undefined],
    ]);
    expect(describeMissing(plan.missing[0]!)).toBe(
      `libcufft.so.11 (needed by libonnxruntime_providers_cuda.so) is missing; found libcufft.so.10 in ${dir}, another major version: get cuFFT for CUDA 12: apt libcufft-12-x or pip nvidia-cufft-cu12 (nvidia/cufft/lib), and copy it into the workload.gpu.providers directory`,
    );
  });

  it('without the provider library its documented needs are checked too', async () => {
    const plan = await locateCudaProvider([dir], '1.30.0');
    expect(plan.missing.map((m) => m.name)).toEqual([
      'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so',
      'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9',
    ]);
    expect(plan.missing[0]!.how).toMatch(/^from the Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.30\.0 NuGet package/);
  });
});
