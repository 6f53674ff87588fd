import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topPids } from '../../src/platforms/docker/gpu-reading.js';
import { readingFromOwnGpus, readingFromProcesses } from '../../src/platforms/gpu-reading.js';
import { guestGpuCommand } from '../../src/platforms/linux-guest/guest-gpu.js';
import { parseComputeApps, parseGpuQuery } from '../../src/platforms/host/nvidia-smi.js';
import { GPU_FIXTURES } from './host/fixture-host.js';

const smi = (f: string) => readFileSync(join(GPU_FIXTURES, 'nvidia-smi', f), 'utf8');
const H200 = parseGpuQuery(smi('query-gpu.h200.SYNTHETIC.txt'));
const APPS = parseComputeApps(smi('query-compute-apps.SYNTHETIC.txt'));

describe('GPU readings per instance (SYNTHETIC nvidia-smi output)', () => {
  it('a container: its own processes\' memory summed, the GPU\'s utilisation, shared when others use the GPU', () => {
    const r = readingFromProcesses([4242, 4250, 77], APPS, H200, 'test');
    expect(r.memoryUsedBytes).toBe((1024 + 512) * 2 ** 20);
    expect(r.utilizationPct).toBe(37);
    expect(r.shared).toBe(true); // pid 9001 is someone else's
    expect(r.gpus.map((g) => g.name)).toEqual(['NVIDIA H200']);
    const alone = readingFromProcesses([9001], APPS.filter((a) => a.pid === 9001), H200, 'test');
    expect([alone.memoryUsedBytes, alone.shared]).toEqual([2048 * 2 ** 20, false]);
  });

  it('no process of the instance on a GPU: 0 bytes, no utilisation; nvidia-smi silent: unknown', () => {
    expect(readingFromProcesses([1], APPS, H200, 'test')).toMatchObject({ memoryUsedBytes: 0, utilizationPct: null, gpus: [] });
    expect(readingFromProcesses([4242], null, H200, 'test').memoryUsedBytes).toBeNull();
  });

  it('a VM: every GPU it sees is its own; [N/A] memory makes it unknown', () => {
    expect(readingFromOwnGpus(H200, 'guest')).toMatchObject({ memoryUsedBytes: 1546 * 2 ** 20, utilizationPct: 37, shared: false });
    expect(readingFromOwnGpus(parseGpuQuery(smi('query-gpu.2xa100.SYNTHETIC.txt')), 'guest')).toMatchObject({ memoryUsedBytes: null, utilizationPct: 0 });
    expect(guestGpuCommand()).toBe('LD_LIBRARY_PATH=/opt/vmbench/nvidia-guest/lib /opt/vmbench/nvidia-guest/bin/nvidia-smi --query-gpu=index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,utilization.gpu --format=csv,noheader,nounits');
  });

  it('docker top: the PID column, host pids', () => {
    expect(topPids({ Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '4242', '4200', '0', '10:00', '?', '00:00:01', 'node /app/server.mjs']] })).toEqual([4242]);
    expect(topPids({ Titles: ['USER'], Processes: [['x']] })).toEqual([]);
  });
});
