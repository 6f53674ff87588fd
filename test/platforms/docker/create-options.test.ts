import { describe, expect, it } from 'vitest';
import { containerCreateOptions } from '../../../src/platforms/docker/create-options.js';

const spec = { runId: 'r1', instanceId: 'c-startup-0', port: 18080, threads: 2, modelName: 'model' };

describe('containerCreateOptions', () => {
  it('host networking binds the server to 127.0.0.1 on the instance port', () => {
    const o = containerCreateOptions('img', 'container', { cpus: 1.5, memoryBytes: 2 ** 30, network: 'host' }, spec);
    expect(o.HostConfig?.NetworkMode).toBe('host');
    expect(o.Env).toContain('VMBENCH_HOST=127.0.0.1');
    expect(o.Env).toContain('VMBENCH_PORT=18080');
    expect(o.Env).toContain('VMBENCH_THREADS=2');
    expect(o.HostConfig?.NanoCpus).toBe(1_500_000_000);
    expect(o.HostConfig?.Memory).toBe(2 ** 30);
    expect(o.HostConfig?.PortBindings).toBeUndefined();
    expect(o.Labels?.['vmbench.run']).toBe('r1');
    expect(o.name).toBe('vmbench-r1-c-startup-0');
  });

  it('bridge networking publishes on 127.0.0.1 only', () => {
    const o = containerCreateOptions('img', 'c', { cpus: 1, memoryBytes: 1, network: 'bridge' }, spec);
    expect(o.HostConfig?.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
  });

  it('runs the workload with least privilege', () => {
    const o = containerCreateOptions('img', 'c', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, spec);
    expect(o.User).toBe('10001:10001');
    expect(o.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(o.HostConfig?.CapAdd).toBeUndefined();
    expect(o.HostConfig?.Privileged).toBeFalsy();
    expect(o.HostConfig?.SecurityOpt).toContain('no-new-privileges');
    expect(o.HostConfig?.ReadonlyRootfs).toBe(true);
    expect(Object.keys(o.HostConfig?.Tmpfs ?? {})).toEqual(['/tmp']);
    expect(o.HostConfig?.PidsLimit).toBeGreaterThan(0);
    expect(o.HostConfig?.MemorySwap).toBe(2 ** 30);
  });
});
