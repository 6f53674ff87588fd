import { PHASE_PREFIX } from './contract.js';

/**
 * Phase lines: how the workload artifact says where it is in its start-up.
 * The guest's initramfs/init print boot phases with the guest's uptime, the
 * server prints its phases with its wall clock (stdout in a container, the
 * serial console in a VM), anywhere in a line (kernel messages may interleave):
 *
 *   VMBENCH_PHASE initramfs|init|network|sshd|shutdown <uptime-seconds>
 *   VMBENCH_PHASE process_start|listening|gpu_context|model_loaded|ready <epoch-ms>
 *   (a GPU image's init also prints `gpu_driver <uptime-seconds>` once the guest driver is loaded)
 */

/** Phases printed by the guest's initramfs/init (value: uptime in seconds). */
export type BootPhase = 'initramfs' | 'init' | 'network' | 'sshd' | 'shutdown';
/** Phases printed by the workload server (value: epoch ms). */
export type ServerPhase = 'process_start' | 'listening' | 'gpu_context' | 'model_loaded' | 'ready';
export type ArtifactPhase = BootPhase | ServerPhase;
export const BOOT_PHASES: readonly BootPhase[] = ['initramfs', 'init', 'network', 'sshd', 'shutdown'];
export const SERVER_PHASES: readonly ServerPhase[] = ['process_start', 'listening', 'gpu_context', 'model_loaded', 'ready'];

/** One phase line: the phase, its printed value and (optionally) when the harness saw it. */
export interface PhaseLine {
  /** A known phase, or whatever else a newer artifact prints. */
  phase: ArtifactPhase | (string & {});
  /** Printed value: epoch ms (server phases) … */
  epochMs?: number;
  /** … or guest uptime seconds (boot phases). */
  uptimeS?: number;
  /** performance.now() when the harness saw the line (console arrival). */
  atMono?: number;
}

export interface ParsedPhaseLine extends PhaseLine {
  raw: string;
}

const PHASE_RE = new RegExp(`${PHASE_PREFIX}\\s+([a-z_]+)\\s+([0-9]+(?:\\.[0-9]+)?)(?![0-9.])`);
/** Values above this are epoch milliseconds (2001+), below it uptime seconds. */
const EPOCH_MS_MIN = 1e12;

/** The phase a line announces, or null. */
export function parsePhaseLine(line: string): ParsedPhaseLine | null {
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

/** Split text into lines (CR/LF tolerant, control characters stripped, empty lines dropped). */
export function textLines(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''))
    .filter((l) => l.length > 0);
}

/** Every phase line of some text (container logs, a console) or list of lines; other lines are ignored. */
export function parsePhaseLines(text: string | readonly string[]): ParsedPhaseLine[] {
  const out: ParsedPhaseLine[] = [];
  for (const l of typeof text === 'string' ? textLines(text) : text) {
    const p = parsePhaseLine(l);
    if (p) out.push(p);
  }
  return out;
}
