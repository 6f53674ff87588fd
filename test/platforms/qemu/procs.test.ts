import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QemuPlatform } from '../../../src/platforms/qemu/qemu-platform.js';
import {
  belongsToRun,
  isAlive,
  listVmbenchQemuProcesses,
  parseVmbenchCmdline,
  qemuMemoryUsage,
  vmName,
} from '../../../src/platforms/qemu/procs.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'vmbench-procs-test-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const argv = (...a: string[]) => `${a.join('\0')}\0`;

describe('parseVmbenchCmdline', () => {
  it('recognises vmbench qemu processes and their run id', () => {
    const p = parseVmbenchCmdline(
      42,
      argv('/usr/bin/qemu-system-x86_64', '-name', 'vmbench-r1-i0', '-pidfile', '/c/runs/r1/i0/qemu.pid'),
    );
    expect(p).toMatchObject({ pid: 42, name: 'vmbench-r1-i0', runId: 'r1' });
    expect(parseVmbenchCmdline(1, argv('qemu-system-x86_64', '-name', 'guest=vmbench-a-b,debug-threads=on'))?.name).toBe(
      'vmbench-a-b',
    );
    expect(parseVmbenchCmdline(1, argv('qemu-system-x86_64', '-name', 'other-vm'))).toBeNull();
    expect(parseVmbenchCmdline(1, argv('/bin/sleep', '-name', 'vmbench-r1-i0'))).toBeNull();
    expect(parseVmbenchCmdline(1, argv('qemu-system-x86_64'))).toBeNull();
  });

  it('matches a run by name prefix, disambiguated by the pidfile path', () => {
    const mk = (name: string, run: string) =>
      parseVmbenchCmdline(1, argv('qemu-system-x86_64', '-name', name, '-pidfile', `/c/runs/${run}/x/qemu.pid`))!;
    expect(belongsToRun(mk(vmName('abc', 'i0'), 'abc'), 'abc')).toBe(true);
    // Run "abc-def" has names starting with "vmbench-abc-" too.
    expect(belongsToRun(mk(vmName('abc-def', 'i0'), 'abc-def'), 'abc')).toBe(false);
    expect(belongsToRun(mk(vmName('abc-def', 'i0'), 'abc-def'), 'abc-def')).toBe(true);
    expect(belongsToRun(mk(vmName('xyz', 'i0'), 'xyz'), 'abc')).toBe(false);
  });
});

describe('cleanupRun on processes that look like vmbench VMs', () => {
  it('kills the run\'s processes (and only those) and removes its scratch dirs', async () => {
    const runId = `unit-${process.pid}-${Date.now().toString(36)}`;
    const other = `${runId}-other`;
    const fake = (run: string, inst: string) => {
      const d = join(cacheDir, 'runs', run, inst);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'qemu-instance.json'), '{}');
      writeFileSync(join(d, 'overlay.qcow2'), 'x');
      // A process whose argv looks like a vmbench QEMU: node with argv0 = qemu-system-x86_64.
      const child = spawn(
        process.execPath,
        ['-e', 'setInterval(() => {}, 1000)', '--', '-name', vmName(run, inst), '-pidfile', join(d, 'qemu.pid')],
        { argv0: 'qemu-system-x86_64', stdio: 'ignore' },
      );
      return child;
    };
    const a = fake(runId, 'i0');
    const b = fake(runId, 'i1');
    const c = fake(other, 'i0');
    // A foreign file in the run dir (another platform's) must survive.
    try {
      await new Promise((r) => setTimeout(r, 300));
      const found = (await listVmbenchQemuProcesses()).map((p) => p.pid);
      expect(found).toEqual(expect.arrayContaining([a.pid, b.pid, c.pid]));
      const mem = await qemuMemoryUsage(a.pid!);
      expect(mem!.rssBytes).toBeGreaterThan(1e6);

      const platform = new QemuPlatform('q', { cpus: 1, memoryBytes: 256 * 2 ** 20, accel: 'tcg', machine: 'auto', bootTimeoutMs: 1000 }, { cacheDir });
      await platform.cleanupRun(runId);
      expect(isAlive(a.pid!)).toBe(false);
      expect(isAlive(b.pid!)).toBe(false);
      expect(isAlive(c.pid!)).toBe(true);
      expect(existsSync(join(cacheDir, 'runs', runId))).toBe(false);
      expect(existsSync(join(cacheDir, 'runs', other, 'i0'))).toBe(true);

      // A run dir holding someone else's files keeps them (only QEMU scratch dirs go).
      mkdirSync(join(cacheDir, 'runs', other, 'docker'), { recursive: true });
      writeFileSync(join(cacheDir, 'runs', other, 'docker', 'x.json'), '{}');
      await platform.cleanupRun(other);
      expect(isAlive(c.pid!)).toBe(false);
      expect(existsSync(join(cacheDir, 'runs', other, 'i0'))).toBe(false);
      expect(existsSync(join(cacheDir, 'runs', other, 'docker', 'x.json'))).toBe(true);
    } finally {
      for (const p of [a, b, c]) p.kill('SIGKILL');
    }
  });
});
