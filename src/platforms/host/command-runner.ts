import { execFile } from 'node:child_process';

/**
 * How the GPU detection runs host commands (nvidia-smi, ldconfig, the GPU
 * probe): one small function type, so tests hand in recorded outputs instead
 * of a machine with a GPU. Never throws for a command that ran and failed or
 * does not exist: callers decide what an exit code means.
 */

export interface CommandResult {
  /** null when the command could not start (notFound) or was killed. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The executable does not exist (ENOENT). */
  notFound: boolean;
  timedOut: boolean;
}

export type CommandRunner = (cmd: string, args: readonly string[], opts?: { timeoutMs?: number }) => Promise<CommandResult>;

/** The real runner: execFile with a timeout (5 s unless told), output as text. */
export const runHostCommand: CommandRunner = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: opts.timeoutMs ?? 5_000, maxBuffer: 4 * 2 ** 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ exitCode: 0, stdout, stderr, notFound: false, timedOut: false });
      const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string | null };
      const notFound = e.code === 'ENOENT';
      const exitCode = typeof e.code === 'number' ? e.code : null;
      resolve({ exitCode, stdout: stdout ?? '', stderr: stderr ?? (notFound ? '' : e.message), notFound, timedOut: e.killed === true && exitCode === null });
    });
  });

/** A recorded command's result (tests, fixtures): exit 0 unless told. */
export function commandResult(stdout: string, exitCode = 0, stderr = ''): CommandResult {
  return { exitCode, stdout, stderr, notFound: false, timedOut: false };
}

export const NOT_FOUND: CommandResult = { exitCode: null, stdout: '', stderr: '', notFound: true, timedOut: false };

/**
 * A runner that answers from a table keyed by the command line
 * ("nvidia-smi --query-gpu=…"), and NOT_FOUND for anything else.
 */
export function tableRunner(table: Record<string, CommandResult>): CommandRunner {
  return async (cmd, args) => table[[cmd, ...args].join(' ')] ?? table[cmd] ?? NOT_FOUND;
}
