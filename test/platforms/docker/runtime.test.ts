import { describe, expect, it } from 'vitest';
import { containerCreateOptions } from '../../../src/platforms/docker/create-options.js';
import { gvisorRole } from '../../../src/platforms/docker/memory.js';
import { isGvisor, runtimeArg } from '../../../src/platforms/docker/runtime.js';
import { parseSmapsRollup } from '../../../src/platforms/host/proc-memory.js';

const spec = { runId: 'r1', instanceId: 'i0', port: 18080, threads: 1, modelName: 'model' };

describe('OCI runtimes', () => {
  it('a container is created with the runtime the scenario names (runc when none)', () => {
    expect(containerCreateOptions('img', 'p', { cpus: 1, memoryBytes: 2 ** 30, network: 'host' }, spec).HostConfig?.Runtime).toBe('runc');
    expect(containerCreateOptions('img', 'p', { cpus: 1, memoryBytes: 2 ** 30, network: 'host', runtime: 'runsc' }, spec).HostConfig?.Runtime).toBe('runsc');
  });

  it('reads gVisor platform and network from the registered arguments', () => {
    const args = ['--platform=ptrace', '--network', 'host'];
    expect(runtimeArg(args, 'platform')).toBe('ptrace');
    expect(runtimeArg(args, 'network')).toBe('host');
    expect(runtimeArg(args, 'debug')).toBeUndefined();
    expect(isGvisor({ name: 'runsc', path: '/usr/bin/runsc' })).toBe(true);
    expect(isGvisor({ name: 'gvisor-kvm', path: '/usr/local/bin/runsc' })).toBe(true);
    expect(isGvisor({ name: 'crun', path: '/usr/bin/crun' })).toBe(false);
  });

  it("names gVisor's own host processes", () => {
    expect(gvisorRole(['runsc-sandbox', '--root=/var/run/docker/runtime-runc/moby', 'boot'])).toBe('sentry');
    expect(gvisorRole(['runsc-gofer', 'gofer', '--bundle', '/x'])).toBe('gofer');
    expect(gvisorRole(['/usr/bin/runsc', '--platform=ptrace', 'boot', '--bundle=/x'])).toBe('sentry');
    expect(gvisorRole(['/usr/local/bin/node', '/app/server.mjs'])).toBeNull();
  });

  it('a full smaps (gVisor has no smaps_rollup) sums to the same figures a rollup gives', () => {
    const smaps = [
      '55cd0a165000-55cd0a167000 r--p 00000000 00:0e 148 /usr/bin/node',
      'Size:                  8 kB', 'Rss:                   8 kB', 'Pss:                   8 kB', 'Anonymous:             0 kB',
      '55cd0a167000-55cd0a16d000 rw-p 00000000 00:00 0',
      'Size:                 24 kB', 'Rss:                  20 kB', 'Pss:                  12 kB', 'Anonymous:            20 kB',
    ].join('\n');
    const r = parseSmapsRollup(smaps);
    expect(r).toMatchObject({ rssKiB: 28, pssKiB: 20, anonymousKiB: 20, pssAnonKiB: null });
  });
});

describe('checkpoint failures', () => {
  it("keep the runtime's own reason, not the dump log path or a page of state", async () => {
    const { checkpointFailure } = await import('../../../src/platforms/docker/checkpoint.js');
    const hostinet =
      '(HTTP code 500) server error - Cannot checkpoint container 2820f5: /var/lib/docker/runtimes/runsc did not terminate successfully: exit status 128: checkpoint failed: checkpointing container "2820f5569778": checkpoint not supported when using hostinet path= /var/run/docker/containerd/daemon/x/criu-dump.log: unknown';
    expect(checkpointFailure(hostinet)).toBe('checkpoint not supported when using hostinet');
    const waiters = `checkpointing container "0be5": encoding error at object tcp.endpoint{${'x'.repeat(5000)}}: endpoint still has waiters upon save: path= /x/criu-dump.log: unknown`;
    const why = checkpointFailure(waiters);
    expect(why.length).toBeLessThan(320);
    expect(why).toMatch(/^encoding error at object tcp\.endpoint/);
    expect(why).toMatch(/endpoint still has waiters upon save$/);
  });
});
