import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import { ConsoleTail, waitForConsolePhase as waitFor } from '../../../src/platforms/linux-guest/console.js';
import { isAlive } from '../../../src/platforms/qemu/procs.js';
import { parsePhaseLine as parseConsolePhase, parsePhaseLines as parseConsolePhases, textLines as consoleLines } from '../../../src/workload/phase-lines.js';

/** The console wait as the QEMU platform uses it: gone when the VM's process is. */
const waitForConsolePhase = (inst: { consoleLog: string; pid: number }, phase: 'init' | 'ready', timeoutMs: number) =>
  waitFor(inst.consoleLog, phase, timeoutMs, () => (isAlive(inst.pid) ? null : `qemu process ${inst.pid} is gone`));

const dir = mkdtempSync(join(tmpdir(), 'vmbench-console-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsePhaseLine', () => {
  it('boot phases carry uptime seconds, server phases epoch ms', () => {
    expect(parseConsolePhase('VMBENCH_PHASE initramfs 0.84')).toEqual({
      phase: 'initramfs',
      uptimeS: 0.84,
      raw: 'VMBENCH_PHASE initramfs 0.84',
    });
    expect(parseConsolePhase('VMBENCH_PHASE init 1.52')?.uptimeS).toBe(1.52);
    expect(parseConsolePhase('VMBENCH_PHASE ready 1764093123456')).toMatchObject({ phase: 'ready', epochMs: 1764093123456 });
    for (const p of ['process_start', 'listening', 'model_loaded'] as const) {
      expect(parseConsolePhase(`VMBENCH_PHASE ${p} 1764093123000`)).toMatchObject({ phase: p, epochMs: 1764093123000 });
    }
  });

  it('finds phases inside interleaved kernel output and ignores look-alikes', () => {
    expect(parseConsolePhase('[    2.1] random: crng init done VMBENCH_PHASE init 2.10')?.phase).toBe('init');
    expect(parseConsolePhase('VMBENCH_PHASE init')).toBeNull();
    expect(parseConsolePhase('VMBENCH_PHASE init x1')).toBeNull();
    expect(parseConsolePhase('vmbench_phase init 1.0')).toBeNull();
    expect(parseConsolePhase('VMBENCH_PHASE init 1.0.3')).toBeNull();
    // Unknown phases from a newer guest still parse, classified by magnitude.
    expect(parseConsolePhase('VMBENCH_PHASE warmup 1764093123456')).toMatchObject({ phase: 'warmup', epochMs: 1764093123456 });
    expect(parseConsolePhase('VMBENCH_PHASE sshd 2.5')).toMatchObject({ phase: 'sshd', uptimeS: 2.5 });
  });

  it('parses a whole console with CRLF and control characters', () => {
    const text =
      '\x1b[0mSeaBIOS\r\nVMBENCH_PHASE initramfs 0.50\r\nVMBENCH_PHASE init 0.90\r\nnoise\nVMBENCH_PHASE ready 1764093123456\n';
    expect(parseConsolePhases(text).map((p) => p.phase)).toEqual(['initramfs', 'init', 'ready']);
    expect(consoleLines('a\r\nb\rc\n\n')).toEqual(['a', 'b', 'c']);
  });
});

describe('ConsoleTail', () => {
  it('returns only complete new lines and keeps the last ones for errors', async () => {
    const f = join(dir, 'tail.log');
    const t = new ConsoleTail(f);
    expect(await t.poll()).toEqual([]); // file not there yet
    writeFileSync(f, 'one\ntw');
    expect(await t.poll()).toEqual(['one']);
    appendFileSync(f, 'o\nthree\n');
    expect(await t.poll()).toEqual(['two', 'three']);
    expect(await t.poll()).toEqual([]);
    appendFileSync(f, 'partial');
    await t.poll();
    expect(t.lastLines(2)).toEqual(['three', 'partial']);
  });
});

describe('waitForConsolePhase', () => {
  it('sees a line printed before and after the call', async () => {
    const f = join(dir, 'c1.log');
    writeFileSync(f, 'boot\nVMBENCH_PHASE init 1.25\n');
    const inst = { consoleLog: f, pid: process.pid };
    expect((await waitForConsolePhase(inst, 'init', 1000)).uptimeS).toBe(1.25);
    setTimeout(() => appendFileSync(f, 'VMBENCH_PHASE ready 1764093123456\n'), 150);
    const t0 = performance.now();
    const r = await waitForConsolePhase(inst, 'ready', 5000);
    expect(r.epochMs).toBe(1764093123456);
    expect(r.atMono).toBeGreaterThan(t0 + 100);
    expect(parseConsolePhases(readFileSync(f, 'utf8'))).toHaveLength(2);
  });

  it('times out with the last console lines in the error', async () => {
    const f = join(dir, 'c2.log');
    writeFileSync(f, Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const err = await waitForConsolePhase({ consoleLog: f, pid: process.pid }, 'ready', 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('infrastructure');
    expect((err as BenchError).message).toContain('line 29');
    expect((err as BenchError).message).toContain('line 10');
    expect((err as BenchError).message).not.toContain('line 9\n');
  });

  it('gives up at once when the process is gone', async () => {
    const f = join(dir, 'c3.log');
    writeFileSync(f, 'x\n');
    const t0 = performance.now();
    await expect(waitForConsolePhase({ consoleLog: f, pid: 2 ** 22 + 1 }, 'ready', 10_000)).rejects.toThrow(/gone/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
