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
 * Why one step of a run failed (PerfKit style: CI tells a flake from a
 * regression by it). The run records it on the step's failure, continues with
 * the rest where it can, and the summary counts each category.
 */
export type FailureCategory =
  | 'boot_timeout' // the instance never became ready (or never answered) within the timeout
  | 'instance_died' // the instance exited or vanished while measured
  | 'oom_killed' // the kernel's OOM killer ended it (the memory limit was too small)
  | 'engine_unavailable' // the Docker Engine (or libvirt) could not be reached
  | 'port_conflict' // a port the instance needed was taken
  | 'disk_full' // results, scratch disks or snapshots could not be written (ENOSPC)
  | 'host_unreachable' // the remote host's connection was lost
  | 'mismatch' // the substrates did not run the same artifact / compute the same answer
  | 'interrupted' // SIGINT/SIGTERM
  | 'infrastructure' // any other failure of an engine, a VM or the host
  | 'internal'; // a bug in vmbench

export interface BenchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** The failure's category when the code that throws knows it better than its kind says. */
  category?: FailureCategory;
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
    this.category = options.category;
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

/** Messages by which engines say they are gone (dockerode over a unix socket or TCP; libvirt). */
const ENGINE_GONE = /connect (ENOENT|ECONNREFUSED) .*docker\.sock|Cannot connect to the Docker daemon|socket hang up.*docker|failed to connect to the hypervisor/i;

/**
 * The failure category of any thrown value: the one the error carries, else
 * what its system-call code or message says (ENOSPC → disk_full, EADDRINUSE →
 * port_conflict, a refused engine socket → engine_unavailable), else its kind.
 */
export function failureCategoryOf(err: unknown): FailureCategory {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BenchError && e.category) return e.category;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
    if (code === 'EADDRINUSE') return 'port_conflict';
    const text = messageOf(e);
    if (/\bENOSPC\b|no space left on device/i.test(text)) return 'disk_full';
    if (/\bEADDRINUSE\b|address already in use|port is already allocated|could not set up host forwarding rule/i.test(text)) return 'port_conflict';
    if (ENGINE_GONE.test(text) || (code === 'ECONNREFUSED' && /docker|\.sock/.test(text))) return 'engine_unavailable';
  }
  const kind = asBenchError(err).kind;
  if (kind === 'interrupted' || kind === 'mismatch' || kind === 'internal') return kind;
  return 'infrastructure';
}
