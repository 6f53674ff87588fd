/**
 * Re-aggregation of stored runs: merges several LoadResults of the same mode
 * (e.g. repetitions) through their encoded histograms, so percentiles of the
 * whole are exact to the histogram's precision, not averages of percentiles.
 */
import { BenchError } from '../errors.js';
import { mergeEncoded } from './histogram.js';
import { cpuOver, type LoadResult, type StopReason } from './result.js';

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * Sums counts and windows; reqPerSec = all requests / all measured time
 * (the mean throughput of back-to-back runs); CPU cores are time-weighted.
 */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const first = results[0];
  if (first === undefined) throw new BenchError('input', 'mergeLoadResults: no results to merge');
  if (results.some((r) => r.mode !== first.mode)) throw new BenchError('input', 'mergeLoadResults: results mix closed- and open-loop runs');
  const hist = mergeEncoded(results.map((r) => r.histogram));
  const errors: Record<string, number> = {};
  let durationMs = 0;
  let timeouts = 0;
  let sent = 0;
  let userUs = 0;
  let systemUs = 0;
  let late = 0;
  let dropped = 0;
  let stoppedBy: StopReason = 'duration';
  for (const r of results) {
    add(errors, r.errors);
    durationMs += r.durationMs;
    timeouts += r.timeouts;
    sent += r.sent;
    userUs += r.loadgenCpu.userMs * 1000;
    systemUs += r.loadgenCpu.systemMs * 1000;
    late += r.late ?? 0;
    dropped += r.dropped ?? 0;
    if (r.stoppedBy === 'signal') stoppedBy = 'signal';
  }
  const requests = hist.count;
  const same = <K extends 'connections' | 'rate'>(k: K): LoadResult[K] | undefined =>
    results.every((r) => r[k] === first[k]) ? first[k] : undefined;
  const connections = same('connections');
  const rate = same('rate');
  return {
    mode: first.mode,
    ...(connections !== undefined ? { connections } : {}),
    ...(rate !== undefined ? { rate } : {}),
    durationMs,
    requests,
    errors,
    timeouts,
    reqPerSec: durationMs > 0 ? (requests * 1000) / durationMs : 0,
    latencyMs: hist.summaryMs(),
    histogram: hist.encode(),
    loadgenCpu: cpuOver({ user: userUs, system: systemUs }, durationMs),
    sent,
    ...(first.mode === 'open' ? { late, dropped } : {}),
    stoppedBy,
  };
}
