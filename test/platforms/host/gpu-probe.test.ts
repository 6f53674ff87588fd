import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandResult, tableRunner } from '../../../src/platforms/host/command-runner.js';
import { cudaVersionText, parseGpuProbeOutput, runGpuProbe } from '../../../src/platforms/host/gpu-probe.js';
import { GPU_FIXTURES } from './fixture-host.js';

const rec = (name: string) => JSON.parse(readFileSync(join(GPU_FIXTURES, 'gpu-probe', name), 'utf8')) as { recorded: string; stdout: string; stderr: string; exitCode: number };
const parsed = (name: string) => {
  const r = rec(name);
  return parseGpuProbeOutput(r.stdout, r.exitCode, r.stderr);
};

describe('GPU probe output', () => {
  it('RECORDED on the dev machine (CUDA 13 toolkit, no driver): no-driver, exit 4, libcuda.so.1 named', () => {
    expect(rec('no-driver.RECORDED.json').recorded).toMatch(/^RECORDED for real/);
    const r = parsed('no-driver.RECORDED.json');
    expect(r).toMatchObject({ status: 'no-driver', exitCode: 4, cudaRuntime: '13.0', cudaDriver: '0.0', devices: [] });
    expect(r.detail).toBe('no NVIDIA driver: libcuda.so.1 could not be loaded (cudaGetDeviceCount: cudaErrorInsufficientDriver (CUDA driver version is insufficient for CUDA runtime version))');
  });

  it('SYNTHETIC H200: name, UUID, address, memory and the context-creation time', () => {
    const r = parsed('h200.SYNTHETIC.json');
    expect(r.status).toBe('ok');
    expect(r.devices).toEqual([
      {
        index: 0, name: 'NVIDIA H200', uuid: 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b', pciAddress: '0000:19:00.0', computeCapability: '9.0',
        multiProcessors: 132, totalMemoryBytes: 150754820096, freeMemoryBytes: 150117285888, contextCreateMs: 148.052, firstKernelMs: 0.611, error: null,
      },
    ]);
    expect(r.detail).toBe('1 CUDA device(s): NVIDIA H200 (GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b, 0000:19:00.0, context 148.1 ms)');
  });

  it('SYNTHETIC: no device (exit 3) and a driver older than the probe (exit 4, told apart from no driver)', () => {
    expect(parsed('no-device.SYNTHETIC.json')).toMatchObject({ status: 'no-device', exitCode: 3, detail: expect.stringMatching(/^no CUDA device \(driver supports CUDA 13\.0; cudaGetDeviceCount: cudaErrorNoDevice/) });
    const old = parsed('old-driver.SYNTHETIC.json');
    expect(old.status).toBe('no-driver');
    expect(old.detail).toMatch(/^the NVIDIA driver supports CUDA 12\.4, older than the probe's runtime 13\.0/);
  });

  it('anything else is a failed probe, with what it printed', () => {
    expect(parseGpuProbeOutput('', 139, 'Segmentation fault')).toMatchObject({ status: 'failed', detail: 'GPU probe printed no result (exit 139): Segmentation fault' });
    expect(cudaVersionText(12040)).toBe('12.4');
  });

  it('a probe that is not built says how to build it; a built one is run without arguments', async () => {
    expect((await runGpuProbe(tableRunner({}), '/nowhere/vmbench-gpu-probe')).status).toBe('not-built');
    const r = rec('h200.SYNTHETIC.json');
    const run = tableRunner({ '/p/vmbench-gpu-probe': commandResult(r.stdout, r.exitCode) });
    expect((await runGpuProbe(run, '/p/vmbench-gpu-probe', () => true)).devices).toHaveLength(1);
  });
});
