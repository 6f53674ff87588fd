import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipCpio, writeCpio, type CpioEntry } from '../../../src/platforms/linux-guest/cpio.js';

const entries: CpioEntry[] = [
  { type: 'dir', path: 'bin', mode: 0o755 },
  { type: 'dir', path: 'dev', mode: 0o755 },
  { type: 'char', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { type: 'file', path: 'bin/busybox', mode: 0o755, data: Buffer.from('not really busybox') },
  { type: 'symlink', path: 'bin/sh', target: 'busybox' },
  { type: 'file', path: 'init', mode: 0o755, data: Buffer.from('#!/bin/busybox sh\necho hi\n') },
  { type: 'file', path: 'empty', mode: 0o644, data: Buffer.alloc(0) },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpio-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('newc cpio writer', () => {
  it('is readable by cpio -t, with types, modes and link targets', async () => {
    const file = join(dir, 'a.cpio');
    await writeFile(file, writeCpio(entries));
    const list = await execa('cpio', ['-t', '--quiet', '-F', file]);
    expect(list.stdout.split('\n')).toEqual(entries.map((e) => e.path));
    const verbose = (await execa('cpio', ['-tv', '--quiet', '-F', file])).stdout.split('\n');
    expect(verbose[2]).toMatch(/^crw------- .* 5,\s*1 .*dev\/console$/);
    expect(verbose[3]).toMatch(/^-rwxr-xr-x .* 18 .*bin\/busybox$/);
    expect(verbose[4]).toMatch(/^lrwxrwxrwx .*bin\/sh -> busybox$/);
  });

  it('extracts the same bytes', async () => {
    const file = join(dir, 'b.cpio');
    await writeFile(file, writeCpio(entries));
    const out = join(dir, 'x');
    await execa('mkdir', ['-p', out]);
    // Without root, mknod of dev/console fails (non-zero exit) but the rest is extracted.
    await execa('cpio', ['-id', '--quiet', '--no-absolute-filenames', '-F', file], { cwd: out, reject: false });
    const init = await execa('cat', [join(out, 'init')]);
    expect(init.stdout).toBe('#!/bin/busybox sh\necho hi');
  });

  it('is deterministic and gzips to something gunzip understands', () => {
    const a = writeCpio(entries);
    expect(writeCpio(entries).equals(a)).toBe(true);
    expect(a.length % 512).toBe(0);
    const gz = gzipCpio(a);
    expect(gzipCpio(a).equals(gz)).toBe(true);
    expect(gunzipSync(gz).equals(a)).toBe(true);
  });
});
