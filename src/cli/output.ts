import pc from 'picocolors';
import { asBenchError, exitCodeFor } from '../errors.js';

/** Colour only on a TTY without NO_COLOR and outside CI. */
export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && !process.env.CI;
}

export function paint(fn: (s: string) => string, s: string): string {
  return useColor() ? fn(s) : s;
}

/** Prints an error the user can act on (no stack trace unless VMBENCH_DEBUG=1) and returns its exit code. */
export function reportError(thrown: unknown): number {
  const err = asBenchError(thrown);
  const code = exitCodeFor(err);
  if (err.kind !== 'internal') {
    const where = err.location ? '' : ''; // location is already part of scenario messages
    process.stderr.write(`${paint(pc.red, 'error:')} ${where}${err.message}\n`);
    if (err.hint) process.stderr.write(`${paint(pc.dim, 'hint:')} ${err.hint}\n`);
    if (process.env.VMBENCH_DEBUG && err.cause) process.stderr.write(`cause: ${String((err.cause as Error).stack ?? err.cause)}\n`);
  } else {
    process.stderr.write(`${paint(pc.red, 'internal error:')} ${err.message}\n`);
    const stack = (err.cause instanceof Error ? err.cause : err).stack;
    if (process.env.VMBENCH_DEBUG) process.stderr.write(`${stack}\n`);
    else process.stderr.write('(set VMBENCH_DEBUG=1 for a stack trace; this is a bug in vmbench)\n');
  }
  return code;
}

/** Wraps a commander action so every failure becomes a clean message and the right exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
