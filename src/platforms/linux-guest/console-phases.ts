import { BenchError } from '../../errors.js';
import { parsePhaseLines, type PhaseLine } from '../../workload/phase-lines.js';
import { timelineFromArrivals, type PhaseTimeline } from '../timeline.js';
import type { Lifecycle } from '../platform.js';
import type { ConsoleTail } from './console.js';

/**
 * Startup phases of a VM from its serial console, timed on ARRIVAL: the
 * guest's clock is not the host's (TCG, an RTC with 1 s resolution), so a
 * phase is the harness's monotonic time at which its console line was read.
 * The launch's boot wait polls the console every ≤ 20 ms (waitForLine's
 * default) and, once launch() returns, a background follower polls it every
 * FOLLOW_INTERVAL_MS until `ready` is seen, the VM exits or stop() — so a
 * value is late by at most 20 ms plus one file read (resolutionMs).
 */

export const QEMU_PHASE_SOURCE = 'qemu-console:arrival';
/** Background poll interval once launch() has returned. */
export const FOLLOW_INTERVAL_MS = 10;
/** Coarsest poll interval used (the boot wait's): the timeline's resolution. */
export const CONSOLE_PHASE_RESOLUTION_MS = 20;

export class ConsolePhaseRecorder {
  /** Phase lines in arrival order, each with atMono. */
  readonly lines: PhaseLine[] = [];
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(readonly tail: ConsoleTail) {
    tail.onLine = (line, atMono) => this.record(line, atMono);
  }

  record(line: string, atMono: number): void {
    for (const { raw: _raw, ...p } of parsePhaseLines([line])) this.lines.push({ ...p, atMono });
    for (const w of this.waiters) w();
  }

  has(phase: string): boolean {
    return this.lines.some((l) => l.phase === phase);
  }

  get following(): boolean {
    return this.loop !== null;
  }

  /**
   * Poll the tail every intervalMs in the background until `ready` has been
   * seen, isDone() (e.g. the VM exited) or stop(). Nobody else may poll this
   * tail meanwhile. Timers are unref'd: a forgotten follower never keeps the
   * process alive.
   */
  follow(intervalMs: number, isDone: () => boolean): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        await this.tail.poll().catch(() => undefined);
        if (this.has('ready') || isDone() || this.stopping) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, intervalMs);
          t.unref();
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
    })().finally(() => {
      this.loop = null;
      for (const w of this.waiters) w();
    });
  }

  /** Stop following; resolves when no poll is in flight any more. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** Resolves true once `phase` has been seen, false after timeoutMs or when nothing follows the console any more. */
  waitFor(phase: string, timeoutMs: number): Promise<boolean> {
    if (this.has(phase)) return Promise.resolve(true);
    if (!this.loop) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = () => {
        if (this.has(phase)) done(true);
        else if (!this.loop) done(false);
      };
      const timer = setTimeout(() => done(this.has(phase)), timeoutMs);
      timer.unref();
      this.waiters.add(check);
    });
  }
}

const recorders = new WeakMap<object, ConsolePhaseRecorder>();

/** Remember the recorder of a launched instance and start following its console. */
export function followConsolePhases(instance: object, recorder: ConsolePhaseRecorder, isDone: () => boolean): void {
  recorders.set(instance, recorder);
  recorder.follow(FOLLOW_INTERVAL_MS, isDone);
}

/** Stop following an instance's console (before its scratch dir goes away). */
export async function stopConsolePhases(instance: object): Promise<void> {
  await recorders.get(instance)?.stop();
}

/**
 * The instance's timeline: created/started from the lifecycle, kernel_init
 * and the server phases from console arrival times; guest uptimes of
 * initramfs/init/network/sshd as metadata. Waits up to waitReadyMs for the
 * `ready` line when it has not been read yet (the serial console may trail
 * the HTTP answer a little).
 */
export async function qemuStartupPhases(
  instance: object & { lifecycle: Lifecycle },
  opts: { waitReadyMs?: number } = {},
): Promise<PhaseTimeline> {
  const rec = recorders.get(instance);
  if (!rec) {
    throw new BenchError('internal', 'startupPhases: this VM was not launched by this process (no console arrival times)');
  }
  await rec.waitFor('ready', opts.waitReadyMs ?? 2000);
  return timelineFromArrivals(instance.lifecycle, rec.lines, CONSOLE_PHASE_RESOLUTION_MS, QEMU_PHASE_SOURCE);
}
