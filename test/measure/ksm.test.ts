import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enableKsm } from '../../src/measure/ksm.js';

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function fakeSys(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'ksm-'));
  roots.push(root);
  const dir = join(root, 'kernel/mm/ksm');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run'), '0\n');
  writeFileSync(join(dir, 'pages_to_scan'), '100\n');
  writeFileSync(join(dir, 'full_scans'), '7\n');
  return { root, dir };
}

describe('enableKsm', () => {
  it('switches KSM on, waits for full scans, and restores the previous settings', async () => {
    const { root, dir } = fakeSys();
    const ksm = await enableKsm(root, 2000);
    expect(readFileSync(join(dir, 'run'), 'utf8')).toBe('1');
    expect(readFileSync(join(dir, 'pages_to_scan'), 'utf8')).toBe('2000');
    setTimeout(() => writeFileSync(join(dir, 'full_scans'), '9\n'), 300);
    expect(await ksm.waitForScans(2, 5_000)).toBe(2);
    await ksm.restore();
    await ksm.restore();
    expect(readFileSync(join(dir, 'run'), 'utf8')).toBe('0');
    expect(readFileSync(join(dir, 'pages_to_scan'), 'utf8')).toBe('100');
  });

  it('gives up waiting at the timeout', async () => {
    const { root } = fakeSys();
    const ksm = await enableKsm(root);
    expect(await ksm.waitForScans(2, 500)).toBe(0);
    await ksm.restore();
  });

  it('says clearly when KSM cannot be switched on', async () => {
    await expect(enableKsm('/nonexistent-sys')).rejects.toMatchObject({ kind: 'unsupported' });
  });
});
