import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcessMemory } from '../../../src/platforms/host/proc-memory.js';

/**
 * Memory accounting against a process of known size: two child node
 * processes on the host, one idle (the baseline) and one that allocates and
 * touches N MiB (Buffer.alloc + fill), both alive at once so they share the
 * node binary's file pages the same way. The smaps_rollup reader must report
 * PSS(loaded) within ±10 % of N MiB + PSS(baseline).
 */

const MiB = 2 ** 20;
const CHILD = `
const mib = Number(process.argv[1]);
const keep = [];
if (mib > 0) keep.push(Buffer.alloc(mib * 2 ** 20).fill(0x5a));
process.stdout.write('ready\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(keep.length));
`;

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
});

async function startChild(mib: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', CHILD, String(mib)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before allocating`)));
  });
  return child;
}

describe('memory accounting against a process of known size', () => {
  it.each([200, 64])('a child that touches %d MiB shows that much more PSS than an idle one', async (mib) => {
    const [idle, loaded] = await Promise.all([startChild(0), startChild(mib)]);
    const [base, big] = await Promise.all([readProcessMemory(idle.pid!), readProcessMemory(loaded.pid!)]);
    expect(base).not.toBeNull();
    expect(big).not.toBeNull();
    const expected = mib * MiB + base!.pssBytes;
    console.log(
      `${mib} MiB child: PSS ${(big!.pssBytes / MiB).toFixed(1)} MiB (Pss_Anon ${(big!.pssAnonBytes! / MiB).toFixed(1)}), ` +
        `idle child PSS ${(base!.pssBytes / MiB).toFixed(1)} MiB; expected ${(expected / MiB).toFixed(1)} MiB ` +
        `(${(((big!.pssBytes - expected) / expected) * 100).toFixed(1)} %)`,
    );
    expect(big!.command).toContain(process.execPath);
    expect(Math.abs(big!.pssBytes - expected)).toBeLessThanOrEqual(0.1 * expected);
    // The difference alone is the allocation, within ±10 % of it.
    expect(Math.abs(big!.pssBytes - base!.pssBytes - mib * MiB)).toBeLessThanOrEqual(0.1 * mib * MiB);
    expect(big!.rssBytes).toBeGreaterThanOrEqual(big!.pssBytes);
    if (big!.pssAnonBytes !== null) {
      expect(Math.abs(big!.pssAnonBytes - base!.pssAnonBytes! - mib * MiB)).toBeLessThanOrEqual(0.1 * mib * MiB);
    }
    idle.stdin!.end();
    loaded.stdin!.end();
    const [[idleCode], [loadedCode]] = await Promise.all([once(idle, 'exit'), once(loaded, 'exit')]);
    expect([idleCode, loadedCode]).toEqual([0, 1]);
  });

  it('a process that is gone reads as null', async () => {
    const c = await startChild(0);
    const pid = c.pid!;
    c.stdin!.end();
    await once(c, 'exit');
    expect(await readProcessMemory(pid)).toBeNull();
  });
});
