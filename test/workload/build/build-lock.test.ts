import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, sweepDeadBuildScratch, withBuildLock } from '../../../src/workload/build/build-lock.js';

const dirs: string[] = [];
function cache(holder: number | null): string {
  const d = mkdtempSync(join(tmpdir(), 'vmbench-lock-'));
  dirs.push(d);
  mkdirSync(join(d, 'tmp', 'rootfs-abc', 'etc'), { recursive: true });
  writeFileSync(join(d, 'tmp', 'rootfs-abc', 'etc', 'passwd'), 'root:x:0:0\n');
  if (holder !== null) writeFileSync(join(d, LOCK_FILE), `${holder}\n`);
  return d;
}
/** A pid that existed and is gone: an exited child's. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the scratch of a killed artifact build (bench gc)', () => {
  it('is removed when the lock holder is gone, and the lock with it', async () => {
    const d = cache(deadPid());
    expect(await sweepDeadBuildScratch(d)).toEqual(['rootfs-abc']);
    expect(readdirSync(join(d, 'tmp'))).toEqual([]);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('is only listed with dryRun', async () => {
    const d = cache(null);
    expect(await sweepDeadBuildScratch(d, true)).toEqual(['rootfs-abc']);
    expect(readdirSync(join(d, 'tmp'))).toEqual(['rootfs-abc']);
  });

  it('is never touched while a live build holds the lock', async () => {
    const d = cache(process.pid);
    expect(await sweepDeadBuildScratch(d)).toEqual([]);
    expect(readdirSync(join(d, 'tmp'))).toEqual(['rootfs-abc']);
  });

  it('a build taking the lock of a dead one starts from an empty scratch area', async () => {
    const d = cache(deadPid());
    const seen = await withBuildLock(d, async () => readdirSync(join(d, 'tmp')));
    expect(seen).toEqual([]);
  });
});
