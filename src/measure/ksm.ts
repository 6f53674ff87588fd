import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError, messageOf } from '../errors.js';

/**
 * Kernel same-page merging, switched on for one measurement and restored
 * afterwards (it is host-wide state). Only pages marked mergeable are merged:
 * QEMU marks guest RAM so by default; a container's memory is not.
 */
export interface KsmSession {
  /** Put run/pages_to_scan back to what they were. Safe to call twice. */
  restore(): Promise<void>;
  /** Wait until KSM finished `scans` more full scans (or the timeout passed); returns the scans seen. */
  waitForScans(scans: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
}

async function readInt(path: string): Promise<number> {
  return Number((await readFile(path, 'utf8')).trim());
}

export async function enableKsm(sysRoot = '/sys', pagesToScan = 2000): Promise<KsmSession> {
  const dir = join(sysRoot, 'kernel/mm/ksm');
  let before: { run: string; pages: string };
  try {
    before = {
      run: (await readFile(join(dir, 'run'), 'utf8')).trim(),
      pages: (await readFile(join(dir, 'pages_to_scan'), 'utf8')).trim(),
    };
    await writeFile(join(dir, 'pages_to_scan'), String(pagesToScan));
    await writeFile(join(dir, 'run'), '1');
  } catch (cause) {
    throw new BenchError('unsupported', `cannot switch KSM on (${messageOf(cause)})`, {
      hint: 'memory.ksm needs root and a kernel with CONFIG_KSM (/sys/kernel/mm/ksm/run writable)',
      cause,
    });
  }
  let restored = false;
  return {
    async restore() {
      if (restored) return;
      restored = true;
      await writeFile(join(dir, 'run'), before.run);
      await writeFile(join(dir, 'pages_to_scan'), before.pages);
    },
    async waitForScans(scans, timeoutMs, signal) {
      const start = await readInt(join(dir, 'full_scans'));
      const deadline = performance.now() + timeoutMs;
      let seen = 0;
      while (performance.now() < deadline && !signal?.aborted) {
        seen = (await readInt(join(dir, 'full_scans'))) - start;
        if (seen >= scans) break;
        await sleep(200);
      }
      return seen;
    },
  };
}
