// @ts-check
/**
 * Log and phase lines of the vmbench workload server (see server.mjs): readiness
 * phases go to stdout as `VMBENCH_PHASE <phase> <epoch-ms>`, other diagnostics to
 * stderr, prefixed with the server's name.
 */

export const SERVER_NAME = 'vmbench-server';

/** @param {string} phase @param {number} [ms] */
export function phase(phase, ms = Date.now()) {
  process.stdout.write(`VMBENCH_PHASE ${phase} ${ms}\n`);
}

/** @param {string} msg */
export function log(msg) {
  process.stderr.write(`${SERVER_NAME}: ${msg}\n`);
}

/** @param {unknown} err */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
