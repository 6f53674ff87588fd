import { describe, expect, it } from 'vitest';
import { fastestRestore, snapshotSampleValues, type RestoreMeasurement } from '../../src/measure/snapshot.js';
import type { Snapshot, SnapshotVariant } from '../../src/platforms/snapshot.js';
import { buildQemuArgs } from '../../src/platforms/qemu/args.js';
import { snapshotImageRef } from '../../src/platforms/docker/commit-snapshot.js';
import {
  buildIncomingArgs,
  incomingDone,
  incomingUri,
  migrateUri,
  parseMigrateStatus,
  shQuote,
} from '../../src/platforms/qemu/migrate-snapshot.js';

const original = buildQemuArgs({
  name: 'vmbench-r1-i0',
  machine: 'pc',
  accel: 'tcg',
  cpus: 1,
  memoryMiB: 512,
  kernel: '/a/vmlinuz',
  initrd: '/a/initrd.img',
  cmdline: 'console=ttyS0 root=/dev/vda rw quiet vmbench.port=8080',
  disk: '/c/runs/r1/i0/overlay.qcow2',
  consoleLog: '/c/runs/r1/i0/console.log',
  qmpSocket: '/c/runs/r1/i0/qmp.sock',
  pidfile: '/c/runs/r1/i0/qemu.pid',
  hostPort: 18080,
  guestPort: 8080,
  sshPort: 20022,
});

const restoreOpts = {
  name: 'vmbench-r1-i0-rraw',
  disk: '/c/runs/r1/i0-snap/r,raw.qcow2',
  consoleLog: '/c/runs/r1/i0-snap/rraw.console.log',
  qmpSocket: '/c/runs/r1/i0-snap/rraw.qmp.sock',
  pidfile: '/c/runs/r1/i0-snap/rraw.pid',
  hostPort: 19090,
  sshPort: 21022,
  incoming: "exec:cat '/c/runs/r1/i0-snap/mem.raw'",
};

const valueOf = (args: string[], opt: string) => args[args.indexOf(opt) + 1];

describe('buildIncomingArgs', () => {
  const args = buildIncomingArgs(original, restoreOpts);

  it('keeps machine, accel, cpu, memory, kernel, initrd, cmdline and devices exactly', () => {
    for (const opt of ['-M', '-accel', '-cpu', '-smp', '-m', '-kernel', '-initrd', '-append']) {
      expect(valueOf(args, opt)).toBe(valueOf(original, opt));
    }
    const devices = (a: string[]) => a.flatMap((v, i) => (a[i - 1] === '-device' ? [v] : []));
    expect(devices(args)).toEqual(devices(original));
    expect(args.length).toBe(original.length + 2);
  });

  it('replaces per-instance paths, the disk (commas escaped) and only the host side of hostfwd', () => {
    expect(valueOf(args, '-name')).toBe('vmbench-r1-i0-rraw');
    expect(valueOf(args, '-pidfile')).toBe(restoreOpts.pidfile);
    expect(valueOf(args, '-qmp')).toBe(`unix:${restoreOpts.qmpSocket},server=on,wait=off`);
    expect(valueOf(args, '-chardev')).toBe(`file,id=con0,path=${restoreOpts.consoleLog}`);
    expect(valueOf(args, '-drive')).toBe('file=/c/runs/r1/i0-snap/r,,raw.qcow2,if=none,id=d0,format=qcow2');
    expect(valueOf(args, '-netdev')).toBe(
      'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:19090-:8080,hostfwd=tcp:127.0.0.1:21022-:22',
    );
    expect(args.slice(-2)).toEqual(['-incoming', restoreOpts.incoming]);
    expect(args.join(' ')).not.toContain('/i0/');
  });

  it('refuses an argv it does not understand', () => {
    expect(() => buildIncomingArgs(original.filter((a) => a !== '-pidfile'), restoreOpts)).toThrow(/-pidfile/);
    expect(() => buildIncomingArgs([...original, '-incoming', 'defer'], restoreOpts)).toThrow(/-incoming/);
  });
});

describe('migration URIs', () => {
  it('quote paths for sh -c', () => {
    expect(shQuote("/a b/it's")).toBe(`'/a b/it'\\''s'`);
    expect(migrateUri('raw', '/s/mem.raw')).toBe("exec:cat > '/s/mem.raw'");
    expect(migrateUri('gzip', '/s/mem.gz')).toBe("exec:gzip -c > '/s/mem.gz'");
    expect(incomingUri('raw', '/s/mem.raw')).toBe("exec:cat '/s/mem.raw'");
    expect(incomingUri('gzip', '/s/mem.gz')).toBe("exec:gzip -dc '/s/mem.gz'");
  });
});

describe('parseMigrateStatus', () => {
  it('reads active, completed and failed states', () => {
    expect(parseMigrateStatus({ status: 'active', ram: { transferred: 5 } })).toEqual({
      status: 'active',
      done: false,
      failed: false,
      transferredBytes: 5,
    });
    expect(parseMigrateStatus({ status: 'completed', 'total-time': 251, ram: { transferred: 417421896 } })).toMatchObject({
      done: true,
      failed: false,
      totalTimeMs: 251,
      transferredBytes: 417421896,
    });
    expect(parseMigrateStatus({ status: 'failed', 'error-desc': 'disk full' })).toMatchObject({ failed: true, error: 'disk full' });
    expect(parseMigrateStatus({ status: 'cancelled' }).failed).toBe(true);
    expect(parseMigrateStatus({})).toEqual({ status: 'none', done: false, failed: false });
    expect(parseMigrateStatus(undefined).status).toBe('none');
  });

  it('incoming is done once the status leaves inmigrate', () => {
    expect(incomingDone('inmigrate')).toBe(false);
    expect(incomingDone('paused')).toBe(true);
    expect(incomingDone('running')).toBe(true);
  });
});

describe('result assembly', () => {
  const variant = (name: string, takeMs: number): SnapshotVariant => ({ name, method: `${name} method`, takeMs, bytes: 2 * 2 ** 20, handle: {} });
  const restore = (name: string, ms: number): RestoreMeasurement => ({ variant: variant(name, ms / 10), restoreToFirstInferenceMs: ms, restorePhasesMs: { cont: 5 } });
  const snapshot: Snapshot = { platform: 'vm', runId: 'r', instanceId: 'i', processMemory: true, variants: [], facts: { overlayBytes: 1 }, notes: ['n'] };

  it('reports the fastest restore as the headline and keeps every variant in the metadata', () => {
    expect(() => fastestRestore([])).toThrow();
    const values = snapshotSampleValues({ snapshot, freshLaunchToFirstInferenceMs: 30_000, restores: [restore('gzip', 9000), restore('raw', 7000)], notes: [] });
    const by = Object.fromEntries(values.map((v) => [v.metric, v]));
    expect(by.snapshot_restore!.value).toBe(7000);
    expect(by.snapshot_fresh!.value).toBe(30_000);
    expect(by.snapshot_take!.value).toBe(700);
    expect(by.snapshot_size!.value).toBe(2);
    expect(by.snapshot_restore!.metadata).toMatchObject({ method: 'raw method', process_memory: true, restore_cont_ms: 5, overlayBytes: 1 });
    expect(String(by.snapshot_restore!.metadata.variants)).toContain('gzip method: 9000 ms');
    expect(by.snapshot_restored_memory).toBeUndefined();
  });
  it('names committed images per run and instance', () => {
    expect(snapshotImageRef('r1', 'c0')).toEqual({ repo: 'vmbench-snapshot', tag: 'r1-c0' });
  });
});
