import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeRootfsDigest, fixMtimes, rootfsListing } from '../../../../src/workload/build/rootfs/digest.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'digest-test-'));
  await mkdir(join(root, 'etc/vmbench'), { recursive: true });
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await mkdir(join(root, 'tmp'));
  await writeFile(join(root, 'etc/hostname'), 'vmbench\n');
  await writeFile(join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'usr/bin/tool'), 0o755);
  await symlink('usr/bin', join(root, 'bin'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('rootfs digest', () => {
  it('is stable for the same tree and ignores timestamps', async () => {
    const a = await computeRootfsDigest(root);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    await utimes(join(root, 'etc/hostname'), 12345, 12345);
    expect(await computeRootfsDigest(root)).toBe(a);
    await fixMtimes(root);
    expect(await computeRootfsDigest(root)).toBe(a);
  });

  it('changes with content, mode and symlink target', async () => {
    const a = await computeRootfsDigest(root);
    await writeFile(join(root, 'etc/hostname'), 'other\n');
    const b = await computeRootfsDigest(root);
    expect(b).not.toBe(a);
    await chmod(join(root, 'usr/bin/tool'), 0o700);
    const c = await computeRootfsDigest(root);
    expect(c).not.toBe(b);
    await rm(join(root, 'bin'));
    await symlink('/usr/bin', join(root, 'bin'));
    expect(await computeRootfsDigest(root)).not.toBe(c);
  });

  it('leaves out the digest file itself and the contents of volatile dirs', async () => {
    const a = await computeRootfsDigest(root);
    await writeFile(join(root, 'etc/vmbench/rootfs.sha256'), `${a}\n`);
    await writeFile(join(root, 'tmp/scratch'), 'x');
    expect(await computeRootfsDigest(root)).toBe(a);
  });

  it('lists entries sorted with type, mode, owner and content hash', async () => {
    const lines = (await rootfsListing(root)).map((e) => e.line);
    expect(lines[0]).toMatch(/^l 0777 \d+:\d+ -> "usr\/bin" "\/bin"$/);
    expect(lines.find((l) => l.endsWith('"/usr/bin/tool"'))).toMatch(/^f 0755 \d+:\d+ [0-9a-f]{64} /);
    expect(lines.some((l) => l.endsWith('"/tmp"'))).toBe(true);
  });
});
