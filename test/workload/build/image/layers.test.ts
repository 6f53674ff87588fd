import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayers } from '../../../../src/workload/build/image/layers.js';

/**
 * Real layer tars (GNU tar, as `docker save` writes them) stacked by
 * applyLayers: whiteouts, opaque directories, type changes, and links in a
 * lower layer that must never be followed out of the root.
 */

let work: string;
let root: string;
let outside: string;
let n = 0;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'layers-test-'));
  root = join(work, 'root');
  outside = join(work, 'outside');
  await mkdir(root);
  await mkdir(outside);
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

type Entry = { file: string; content?: string; mode?: number } | { dir: string; mode?: number } | { link: string; to: string };

/** One layer tar made from `entries` (paths relative to the layer root). */
async function layer(entries: Entry[], compress: '' | 'gzip' = ''): Promise<string> {
  const dir = join(work, `src-${n}`);
  const tar = join(work, `layer-${n++}.tar${compress ? '.gz' : ''}`);
  await mkdir(dir);
  for (const e of entries) {
    if ('dir' in e) {
      await mkdir(join(dir, e.dir), { recursive: true });
      if (e.mode !== undefined) await chmod(join(dir, e.dir), e.mode);
    } else if ('link' in e) {
      await symlink(e.to, join(dir, e.link));
    } else {
      await writeFile(join(dir, e.file), e.content ?? e.file);
      if (e.mode !== undefined) await chmod(join(dir, e.file), e.mode);
    }
  }
  execFileSync('tar', ['--numeric-owner', compress ? '-czf' : '-cf', tar, '-C', dir, '.']);
  return tar;
}

const scratch = () => join(work, 'scratch');
async function stack(...layers: string[]): Promise<void> {
  await mkdir(scratch(), { recursive: true });
  await applyLayers(root, layers, scratch());
}
const exists = (p: string) => lstat(join(root, p)).then(() => true, () => false);

describe('applyLayers (OCI changesets)', () => {
  it('upper layers add and replace files; lower files stay', async () => {
    await stack(
      await layer([{ dir: 'etc' }, { file: 'etc/a', content: 'a1' }, { file: 'etc/b', content: 'b1' }]),
      await layer([{ dir: 'etc' }, { file: 'etc/a', content: 'a2' }, { file: 'etc/c', content: 'c2' }]),
    );
    expect(await readFile(join(root, 'etc/a'), 'utf8')).toBe('a2');
    expect(await readFile(join(root, 'etc/b'), 'utf8')).toBe('b1');
    expect(await readFile(join(root, 'etc/c'), 'utf8')).toBe('c2');
    expect((await readdir(scratch())).length).toBe(0); // each layer's unpack dir is removed
  });

  it('.wh.NAME deletes a file or a whole directory of the lower layers, and never lands itself', async () => {
    await stack(
      await layer([{ dir: 'opt/tool/bin' }, { file: 'opt/tool/bin/x' }, { file: 'opt/keep' }, { file: 'gone' }]),
      await layer([{ dir: 'opt' }, { file: 'opt/.wh.tool', content: '' }, { file: '.wh.gone', content: '' }]),
    );
    expect(await exists('opt/tool')).toBe(false);
    expect(await exists('gone')).toBe(false);
    expect(await exists('opt/keep')).toBe(true);
    expect(await exists('opt/.wh.tool')).toBe(false);
    expect(await exists('.wh.gone')).toBe(false);
  });

  it('a whiteout then a new entry of the same name in the same layer: the new one stays', async () => {
    await stack(
      await layer([{ dir: 'srv/old' }, { file: 'srv/old/f' }]),
      await layer([{ dir: 'srv' }, { file: 'srv/.wh.old', content: '' }, { file: 'srv/old', content: 'now a file' }]),
    );
    expect(await readFile(join(root, 'srv/old'), 'utf8')).toBe('now a file');
  });

  it('.wh..wh..opq hides everything the lower layers had in that directory, keeps what this layer puts there', async () => {
    await stack(
      await layer([{ dir: 'app/lib' }, { file: 'app/lib/old1' }, { file: 'app/lib/old2' }, { file: 'app/other' }]),
      await layer([{ dir: 'app/lib' }, { file: 'app/lib/.wh..wh..opq', content: '' }, { file: 'app/lib/new' }]),
    );
    expect((await readdir(join(root, 'app/lib'))).sort()).toEqual(['new']);
    expect(await exists('app/other')).toBe(true);
  });

  it('a file replaces a directory, a directory replaces a file, a symlink replaces a file', async () => {
    await stack(
      await layer([{ dir: 'd' }, { file: 'd/inner' }, { file: 'f' }, { file: 'l', content: 'plain' }]),
      await layer([{ file: 'd', content: 'file now' }, { dir: 'f' }, { file: 'f/x' }, { link: 'l', to: 'f/x' }]),
    );
    expect((await lstat(join(root, 'd'))).isFile()).toBe(true);
    expect((await lstat(join(root, 'f'))).isDirectory()).toBe(true);
    expect(await readlink(join(root, 'l'))).toBe('f/x');
  });

  it('never writes through a symlink of a lower layer: a directory in an upper layer replaces the link', async () => {
    await stack(
      await layer([{ link: 'etc', to: outside }, { link: 'rel', to: '../outside' }]),
      await layer([{ dir: 'etc' }, { file: 'etc/passwd', content: 'inside' }, { dir: 'rel' }, { file: 'rel/f' }]),
    );
    expect(await readdir(outside)).toEqual([]);
    expect((await lstat(join(root, 'etc'))).isDirectory()).toBe(true);
    expect(await readFile(join(root, 'etc/passwd'), 'utf8')).toBe('inside');
    expect((await lstat(join(root, 'rel'))).isDirectory()).toBe(true);
  });

  it('a whiteout whose name leads through a lower symlink removes only the link', async () => {
    await writeFile(join(outside, 'precious'), 'keep me');
    await stack(await layer([{ link: 'data', to: outside }]), await layer([{ file: '.wh.data', content: '' }]));
    expect(await exists('data')).toBe(false);
    expect(await readFile(join(outside, 'precious'), 'utf8')).toBe('keep me');
  });

  it("keeps the upper layer's modes (and the directory's) and reads gzip layers", async () => {
    await stack(
      await layer([{ dir: 'bin', mode: 0o700 }, { file: 'bin/run', mode: 0o644 }]),
      await layer([{ dir: 'bin', mode: 0o755 }, { file: 'bin/run', content: '#!/bin/sh\n', mode: 0o4755 }], 'gzip'),
    );
    expect((await lstat(join(root, 'bin'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(root, 'bin/run'))).mode & 0o7777).toBe(0o4755);
    expect(await readFile(join(root, 'bin/run'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('a layer that is not a tar fails with which layer it was', async () => {
    const bad = join(work, 'bad.tar');
    await writeFile(bad, 'not a tar at all');
    await expect(stack(await layer([{ file: 'ok' }]), bad)).rejects.toThrow(/image layer 2 of 2/);
  });
});
