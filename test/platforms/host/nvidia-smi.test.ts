import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandResult, NOT_FOUND, tableRunner } from '../../../src/platforms/host/command-runner.js';
import { APPS_QUERY_ARGS, GPU_QUERY_ARGS, normalizePciAddress, parseComputeApps, parseGpuQuery, queryComputeApps, queryGpus } from '../../../src/platforms/host/nvidia-smi.js';
import { GPU_FIXTURES } from './fixture-host.js';

const fixture = (name: string) => readFileSync(join(GPU_FIXTURES, 'nvidia-smi', name), 'utf8');
const GPU_CMD = ['nvidia-smi', ...GPU_QUERY_ARGS].join(' ');

describe('nvidia-smi queries (SYNTHETIC fixtures from the documented csv format)', () => {
  it('asks exactly for these fields, machine-readable', () => {
    expect(GPU_QUERY_ARGS).toEqual(['--query-gpu=index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits']);
    expect(APPS_QUERY_ARGS).toEqual(['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits']);
  });

  it('parses one H200, the PCI address as sysfs writes it', () => {
    expect(parseGpuQuery(fixture('query-gpu.h200.SYNTHETIC.txt'))).toEqual([
      {
        index: 0, uuid: 'GPU-8d1c2f3e-4b5a-6978-8a9b-0c1d2e3f4a5b', name: 'NVIDIA H200', pciAddress: '0000:19:00.0',
        driverVersion: '570.124.06', memoryTotalMiB: 143771, memoryUsedMiB: 1546, utilizationPct: 37,
      },
    ]);
  });

  it('turns [N/A] and [Not Supported] into null, and a second PCI domain into its own', () => {
    const [a, b] = parseGpuQuery(fixture('query-gpu.2xa100.SYNTHETIC.txt'));
    expect(a!.utilizationPct).toBe(0);
    expect(b).toMatchObject({ index: 1, pciAddress: '0001:0f:00.0', memoryUsedMiB: null, utilizationPct: null });
  });

  it('parses compute processes; an empty answer is no process', () => {
    expect(parseComputeApps(fixture('query-compute-apps.SYNTHETIC.txt')).map((a) => [a.pid, a.usedMemoryMiB])).toEqual([[4242, 1024], [4250, 512], [9001, 2048]]);
    expect(parseComputeApps('')).toEqual([]);
    expect(parseComputeApps('No running processes found\n')).toEqual([]);
  });

  it('normalises nvidia-smi bus ids', () => {
    expect(normalizePciAddress('00000000:19:00.0')).toBe('0000:19:00.0');
    expect(normalizePciAddress('00010000:3B:00.1')).toBe('10000:3b:00.1');
    expect(normalizePciAddress('65:00.0')).toBe('0000:65:00.0');
  });

  it('says why there is no GPU: not installed, exit 9 (no driver), exit 6 (no device)', async () => {
    expect(await queryGpus(tableRunner({}))).toEqual({ ok: false, reason: 'not-installed', detail: 'nvidia-smi not found (no NVIDIA driver installed)' });
    const nine = await queryGpus(tableRunner({ [GPU_CMD]: commandResult(fixture('no-driver.exit9.SYNTHETIC.txt'), 9) }));
    expect(nine).toEqual({ ok: false, reason: 'no-driver', detail: "nvidia-smi: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running." });
    const six = await queryGpus(tableRunner({ [GPU_CMD]: commandResult(fixture('no-devices.exit6.SYNTHETIC.txt'), 6) }));
    expect(six).toMatchObject({ ok: false, reason: 'no-device', detail: 'nvidia-smi: No devices were found' });
    expect(await queryGpus(tableRunner({ [GPU_CMD]: commandResult(fixture('query-gpu.h200.SYNTHETIC.txt')) }))).toMatchObject({ ok: true, gpus: [{ name: 'NVIDIA H200' }] });
    expect(await queryComputeApps(tableRunner({ [GPU_CMD]: NOT_FOUND }))).toBeNull();
  });
});
