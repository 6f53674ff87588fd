import { open } from 'node:fs/promises';
import { PHASE_PREFIX } from '../workload/contract.js';

/**
 * The guest's serial console, written by QEMU to a file: phase-line parsing
 * and a polling tail (the file grows while the VM boots).
 *
 * Phase lines (anywhere in a line: kernel messages may interleave):
 *   VMBENCH_PHASE initramfs <uptime-seconds>
 *   VMBENCH_PHASE init <uptime-seconds>
 *   VMBENCH_PHASE process_start|listening|model_loaded|ready <epoch-ms>
 */

/** Phases printed by the guest's initramfs/init (value: uptime in seconds). */
export type BootPhase = 'initramfs' | 'init' | 'network' | 'sshd' | 'shutdown';
/** Phases printed by the workload server (value: epoch ms). */
export type ServerConsolePhase = 'process_start' | 'listening' | 'model_loaded' | 'ready';
export type ConsolePhase = BootPhase | ServerConsolePhase;
export const BOOT_PHASES: readonly BootPhase[] = ['initramfs', 'init', 'network', 'sshd', 'shutdown'];
export const SERVER_PHASES: readonly ServerConsolePhase[] = ['process_start', 'listening', 'model_loaded', 'ready'];

export interface ParsedPhase {
  /** A known phase, or whatever else a newer guest prints. */
  phase: ConsolePhase | (string & {});
  /** Guest uptime in seconds (boot phases). */
  uptimeS?: number;
  /** Guest wall clock in epoch ms (server phases). */
  epochMs?: number;
  raw: string;
}

const PHASE_RE = new RegExp(`${PHASE_PREFIX}\\s+([a-z_]+)\\s+([0-9]+(?:\\.[0-9]+)?)(?![0-9.])`);
/** Values above this are epoch milliseconds (2001+), below it uptime seconds. */
const EPOCH_MS_MIN = 1e12;

export function parseConsolePhase(line: string): ParsedPhase | null {
  const m = PHASE_RE.exec(line);
  if (!m) return null;
  const phase = m[1]!;
  const value = Number(m[2]);
  if (!Number.isFinite(value)) return null;
  const isServer = (SERVER_PHASES as readonly string[]).includes(phase);
  const isBoot = (BOOT_PHASES as readonly string[]).includes(phase);
  const epoch = isServer || (!isBoot && value >= EPOCH_MS_MIN);
  return epoch ? { phase, epochMs: value, raw: line } : { phase, uptimeS: value, raw: line };
}

/** Split console text into lines (CR/LF tolerant, control chars stripped). */
export function consoleLines(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''))
    .filter((l) => l.length > 0);
}

export function parseConsolePhases(text: string): ParsedPhase[] {
  const out: ParsedPhase[] = [];
  for (const l of consoleLines(text)) {
    const p = parseConsolePhase(l);
    if (p) out.push(p);
  }
  return out;
}

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
      const lines = cut >= 0 ? consoleLines(text.slice(0, cut + 1)) : [];
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
    const all = this.partial ? [...this.recent, ...consoleLines(this.partial)] : this.recent;
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
