import { open } from 'node:fs/promises';
import { BenchError } from '../../errors.js';
import { parsePhaseLine, textLines, type ArtifactPhase, type ParsedPhaseLine } from '../../workload/phase-lines.js';

/**
 * The guest's serial console, written by the hypervisor to a file: a polling
 * tail (the file grows while the VM boots). Phase lines on it are parsed by
 * src/workload/phase-lines.ts.
 */

/**
 * Incremental reader of a growing file. poll() returns the complete lines added
 * since the last call; the last `keep` lines are retained for error messages.
 */
export class ConsoleTail {
  private offset = 0;
  private partial = '';
  private readonly recent: string[] = [];
  /**
   * Called for every complete line poll() returns, with performance.now()
   * right after the read that found it: the line's arrival as seen by the
   * harness (late by at most the caller's poll interval plus one read).
   */
  onLine?: (line: string, atMono: number) => void;

  constructor(
    readonly path: string,
    private readonly keep = 200,
  ) {}

  async poll(): Promise<string[]> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        chunks.push(buf.subarray(0, bytesRead));
      }
      if (chunks.length === 0) return [];
      const readAt = performance.now();
      const text = this.partial + Buffer.concat(chunks).toString('utf8');
      const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
      this.partial = cut >= 0 ? text.slice(cut + 1) : text;
      const lines = cut >= 0 ? textLines(text.slice(0, cut + 1)) : [];
      for (const l of lines) {
        this.recent.push(l);
        if (this.recent.length > this.keep) this.recent.shift();
        this.onLine?.(l, readAt);
      }
      return lines;
    } finally {
      await fh.close();
    }
  }

  /** The last n lines seen (including an unterminated last line). */
  lastLines(n = 20): string[] {
    const all = this.partial ? [...this.recent, ...textLines(this.partial)] : this.recent;
    return all.slice(-n);
  }
}

export interface WaitForLineOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Give up early (e.g. the QEMU process exited); checked every poll. */
  abort?: () => string | null;
}

export type WaitOutcome<T> = { ok: true; value: T; atMono: number } | { ok: false; reason: string };

/** Poll the tail until `match` returns non-null for a line, the deadline passes or abort() says why not. */
export async function waitForLine<T>(
  tail: ConsoleTail,
  match: (line: string) => T | null,
  opts: WaitForLineOptions,
): Promise<WaitOutcome<T>> {
  const deadline = performance.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 20;
  for (;;) {
    for (const line of await tail.poll()) {
      const v = match(line);
      if (v !== null) return { ok: true, value: v, atMono: performance.now() };
    }
    const why = opts.abort?.();
    if (why) {
      // One last read: the line may have landed just before the exit.
      for (const line of await tail.poll()) {
        const v = match(line);
        if (v !== null) return { ok: true, value: v, atMono: performance.now() };
      }
      return { ok: false, reason: why };
    }
    if (performance.now() >= deadline) return { ok: false, reason: `timed out after ${opts.timeoutMs} ms` };
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Wait until the guest prints `VMBENCH_PHASE <phase>` on its console (already
 * printed lines count). Throws BenchError('infrastructure') with the last
 * console lines on timeout or when `gone()` says the VM's process is gone.
 */
export async function waitForConsolePhase(
  consoleLog: string,
  phase: ArtifactPhase,
  timeoutMs: number,
  gone: () => string | null,
): Promise<ParsedPhaseLine & { atMono: number }> {
  const tail = new ConsoleTail(consoleLog);
  const res = await waitForLine(
    tail,
    (l) => {
      const p = parsePhaseLine(l);
      return p && p.phase === phase ? p : null;
    },
    { timeoutMs, intervalMs: 10, abort: gone },
  );
  if (res.ok) return { ...res.value, atMono: res.atMono };
  const last = tail.lastLines(20);
  throw new BenchError(
    'infrastructure',
    `VMBENCH_PHASE ${phase} not seen on ${consoleLog}: ${res.reason}. Last ${last.length} console lines:\n${last.map((l) => `  | ${l}`).join('\n') || '  (console empty)'}`,
  );
}
