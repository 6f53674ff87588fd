import { execa } from 'execa';
import { BenchError } from '../../errors.js';

/** The one-line fix for a missing host tool. */
export const SETUP_HINT = 'run ./scripts/setup.sh (installs debootstrap, e2fsprogs, qemu-utils, busybox-static, dropbear-bin, docker.io)';

export interface CommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Words for the error message, e.g. "debootstrap (base rootfs)". */
  what?: string;
  hint?: string;
}

/**
 * Run a host command to completion and return its stdout. Failures become
 * BenchError('infrastructure') carrying the tail of stderr; a missing
 * executable gets the setup hint.
 */
export async function runCommand(file: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const what = opts.what ?? file;
  try {
    const res = await execa(file, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...opts.env } : undefined,
      extendEnv: true,
      stdin: 'ignore',
      stripFinalNewline: true,
    });
    return res.stdout;
  } catch (err) {
    throw commandError(file, what, err, opts.hint);
  }
}

export function commandError(file: string, what: string, err: unknown, hint?: string): BenchError {
  const e = err as { code?: string; stderr?: unknown; stdout?: unknown; exitCode?: number; shortMessage?: string };
  if (e.code === 'ENOENT') {
    return new BenchError('infrastructure', `${file} not found (needed for ${what})`, { hint: SETUP_HINT, cause: err });
  }
  const stderr = typeof e.stderr === 'string' ? e.stderr : '';
  const stdout = typeof e.stdout === 'string' ? e.stdout : '';
  const tail = (stderr || stdout).trim().split('\n').slice(-8).join('\n');
  const status = e.exitCode === undefined ? (e.shortMessage ?? 'failed') : `exit code ${e.exitCode}`;
  return new BenchError('infrastructure', `${what} failed (${status})${tail ? `:\n${tail}` : ''}`, {
    hint: hint ?? `re-run the build; if it fails again check that \`${file}\` works on this host`,
    cause: err,
  });
}
