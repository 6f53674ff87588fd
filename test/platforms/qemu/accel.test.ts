import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import {
  buildProbeInitramfs,
  probeAccelerator,
  probeInitScript,
  PROBE_MARKER,
  resolveAccelerator,
} from '../../../src/platforms/qemu/accel.js';

const dir = mkdtempSync(join(tmpdir(), 'vmbench-accel-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
const haveKvm = can('/dev/kvm', constants.R_OK | constants.W_OK);

describe('probe initramfs', () => {
  it('the /init prints the marker and powers off', () => {
    const s = probeInitScript();
    expect(s.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(s).toContain(`echo "${PROBE_MARKER}"`);
    expect(s).toContain('poweroff -f');
  });

  it('holds busybox, /init and /dev/console', async () => {
    const f = join(dir, 'probe.cpio');
    writeFileSync(f, await buildProbeInitramfs());
    const list = execFileSync('cpio', ['-itv', '--quiet', '-F', f], { encoding: 'utf8' });
    expect(list).toMatch(/^c.* dev\/console$/m);
    expect(list).toMatch(/^-rwxr-xr-x .* bin\/busybox$/m);
    expect(list).toMatch(/^-rwxr-xr-x .* init$/m);
  });

  it('a missing busybox is an "unsupported" error', async () => {
    await expect(buildProbeInitramfs(join(dir, 'no-busybox'))).rejects.toMatchObject({ kind: 'unsupported' });
  });
});

describe('resolveAccelerator', () => {
  it('tcg: no probe at all', async () => {
    const r = await resolveAccelerator('tcg', { kernel: '/nonexistent', cacheDir: join(dir, 'never') });
    expect(r).toEqual({ accel: 'tcg', cpu: 'max', reason: 'tcg requested' });
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  // A file that is not a kernel: QEMU refuses it at once, so the probe fails fast (no guest boots).
  it.skipIf(!haveKvm)('auto falls back to TCG with a reason, caches it, and force re-probes', async () => {
    const cacheDir = join(dir, 'cache');
    const kernel = join(dir, 'not-a-kernel');
    writeFileSync(kernel, 'definitely not a bzImage');
    const first = await probeAccelerator({ kernel, cacheDir, timeoutMs: 8000 });
    expect(first.accel).toBe('tcg');
    expect(first.cached).toBe(false);
    expect(first.reason).toMatch(/^kvm probe failed: -cpu max exited \(qemu exited/);
    expect(first.attempts.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(cacheDir, 'accel-probe.json'))).toBe(true);
    expect(readdirSync(cacheDir).filter((e) => e.startsWith('accel-probe-'))).toEqual([]); // temp dir gone

    const second = await probeAccelerator({ kernel, cacheDir });
    expect(second.cached).toBe(true);
    expect(second.reason).toBe(first.reason);

    const forced = await probeAccelerator({ kernel, cacheDir, force: true, timeoutMs: 8000 });
    expect(forced.cached).toBe(false);

    // A different kernel (content) is a different cache entry.
    writeFileSync(kernel, 'still not a bzImage, but different');
    expect((await probeAccelerator({ kernel, cacheDir, timeoutMs: 8000 })).cached).toBe(false);
    const cache = JSON.parse(readFileSync(join(cacheDir, 'accel-probe.json'), 'utf8')) as { entries: object };
    expect(Object.keys(cache.entries)).toHaveLength(2);

    const auto = await resolveAccelerator('auto', { kernel, cacheDir });
    expect(auto.accel).toBe('tcg');
    expect(auto.probe?.cached).toBe(true);
    const err = await resolveAccelerator('kvm', { kernel, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('unsupported');
    expect((err as BenchError).message).toMatch(/KVM was requested but does not work here/);
  });
});
