import type { RunRecord } from './run-record.js';
import type { Sample } from './sample.js';

/**
 * The samples a run's statistics use: those of steps that completed, taken
 * by the segment that completed them. samples.jsonl keeps everything ever
 * measured (a failed step's partial samples, those of a step cut off by an
 * interrupt and re-run on resume); this is the one rule that leaves those out,
 * so a resumed run reports exactly what a single run would.
 */
export function countedSamples(samples: readonly Sample[], record: Pick<RunRecord, 'completed'>): Sample[] {
  const completed = record.completed;
  if (!completed) return [...samples];
  return samples.filter((s) => s.step === undefined || completed[String(s.step)] === (s.segment ?? 0));
}
