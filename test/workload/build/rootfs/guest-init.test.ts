import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestInitScript, poweroffScript } from '../../../../src/workload/build/rootfs/guest-init.js';
import { initramfsInitScript } from '../../../../src/workload/build/vm/initramfs.js';
import { buildKernelCmdline } from '../../../../src/platforms/linux-guest/kernel-cmdline.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'guest-init-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('guest scripts', () => {
  it.each([
    ['vmbench-init', guestInitScript()],
    ['initramfs init', initramfsInitScript(['virtio_ring', 'virtio', 'virtio_blk'])],
    ['poweroff', poweroffScript()],
  ])('%s parses under busybox sh', async (_name, text) => {
    expect(text.startsWith('#!/bin/busybox sh\n')).toBe(true);
    const file = join(dir, 'script.sh');
    await writeFile(file, text);
    const res = await execa('busybox', ['sh', '-n', file], { reject: false });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
  });

  it('vmbench-init reads every vmbench.* parameter and starts the server on 0.0.0.0', () => {
    const s = guestInitScript();
    for (const k of ['port', 'threads', 'model_name', 'authkey', 'ip', 'gw']) expect(s).toContain(`vmbench.${k}=*)`);
    expect(s).toContain('VMBENCH_HOST=0.0.0.0');
    expect(s).toContain('/usr/local/bin/node /app/server.mjs');
    expect(s).toContain('phase init');
    expect(s).toContain('/usr/sbin/dropbear -s -p 22 -r /etc/dropbear/dropbear_ed25519_host_key');
    expect(s).toContain('base64 -d > /root/.ssh/authorized_keys');
    expect(s).toContain('trap stop_all TERM INT USR1 USR2');
    expect(s).not.toMatch(/udhcpc|dhclient/);
  });

  it('the parameter parsing works for real under busybox sh', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcd test@host';
    const cmdline = buildKernelCmdline({ guestPort: 18080, threads: 2, modelName: 'resnet18', authorizedKey: key });
    // Cut the parser out of the init script and run it over a fake /proc/cmdline.
    const s = guestInitScript();
    const parser = s.slice(s.indexOf('PORT='), s.indexOf('$BB hostname'));
    const file = join(dir, 'parse.sh');
    await writeFile(join(dir, 'cmdline'), `${cmdline}\n`);
    await writeFile(
      file,
      `BB=busybox\n${parser.replace('/proc/cmdline', join(dir, 'cmdline'))}\necho "$PORT|$THREADS|$MODEL_NAME|$IP|$GW"\necho "$AUTHKEY" | busybox base64 -d\n`,
    );
    const res = await execa('busybox', ['sh', file]);
    expect(res.stdout.split('\n')).toEqual(['18080|2|resnet18|10.0.2.15/24|10.0.2.2', key]);
  });
});
