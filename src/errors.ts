/**
 * One error type for the whole harness (execa style): a kind that the CLI maps
 * to an exit code, a message written for the user, an optional one-line hint
 * saying what to do, and the underlying cause.
 *
 * Kinds:
 *  - input:          the user's scenario/flags are wrong            → exit 2
 *  - usage:          the command line itself is wrong               → exit 2
 *  - infrastructure: an engine, a VM, the host failed (a "flake")   → exit 3
 *  - unsupported:    the host lacks something the scenario needs    → exit 3
 *  - mismatch:       substrates disagree (e.g. outputs differ)      → exit 1
 *  - interrupted:    SIGINT/SIGTERM                                 → exit 130
 *  - internal:       a bug in vmbench                               → exit 70
 */
export type ErrorKind =
  | 'input'
  | 'usage'
  | 'infrastructure'
  | 'unsupported'
  | 'mismatch'
  | 'interrupted'
  | 'internal';

/**
 * Why one sample failed, when a failure can be pinned on something that
 * spares the rest of the run (recorded per sample; the run goes on):
 *  - host_unreachable: the SSH connection to the platform's host was lost
 */
export type FailureCategory = 'host_unreachable';

export interface BenchErrorOptions {
  hint?: string;
  /** Set when the failure is confined to the samples that met it (see FailureCategory). */
  category?: FailureCategory;
  cause?: unknown;
  /** Where in a file the problem is (scenario errors). */
  location?: { file: string; line: number; column: number; path: string };
}

export class BenchError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly location?: BenchErrorOptions['location'];
  readonly category?: FailureCategory;

  constructor(kind: ErrorKind, message: string, options: BenchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BenchError';
    this.kind = kind;
    this.hint = options.hint;
    this.location = options.location;
    if (options.category) this.category = options.category;
  }

  get isInfrastructure(): boolean {
    return this.kind === 'infrastructure' || this.kind === 'unsupported';
  }
}

export const EXIT_CODES: Record<ErrorKind, number> = {
  input: 2,
  usage: 2,
  infrastructure: 3,
  unsupported: 3,
  mismatch: 1,
  interrupted: 130,
  internal: 70,
};

/**
 * Any thrown value as a BenchError, at a boundary (the CLI, a run record):
 * a failed system call (ENOENT, EACCES, ECONNREFUSED, ENOSPC, …) or a failed
 * child process is the host's problem, an infrastructure failure; anything
 * else that is not already a BenchError is a bug in vmbench.
 */
export function asBenchError(err: unknown): BenchError {
  if (err instanceof BenchError) return err;
  const e = err as { code?: unknown; command?: unknown; exitCode?: unknown } | null;
  const systemCall = typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code);
  const childProcess = typeof e?.command === 'string' && 'exitCode' in (e ?? {});
  return new BenchError(systemCall || childProcess ? 'infrastructure' : 'internal', messageOf(err), { cause: err });
}

export function exitCodeFor(err: unknown): number {
  return EXIT_CODES[asBenchError(err).kind];
}

/** Message of any thrown value, for logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
