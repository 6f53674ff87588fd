/**
 * Holm–Bonferroni step-down adjustment (Holm 1979). Controls the family-wise
 * error rate — the chance that *any* of the m null hypotheses is rejected
 * wrongly — at α under any dependence between the tests (startup and its
 * phases are correlated, for instance), and is uniformly more powerful than
 * plain Bonferroni. Pure.
 */

export type Correction = 'holm' | 'none';
export const CORRECTIONS: readonly Correction[] = ['holm', 'none'];

/**
 * Adjusted p-values in the input order: sort ascending, p̃(i) = max over
 * j ≤ i of min(1, (m − j + 1)·p(j)). Reject H(i) when p̃(i) < α.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[idx]!));
    adjusted[idx] = running;
  });
  return adjusted;
}

export function adjust(pValues: readonly number[], correction: Correction): number[] {
  return correction === 'holm' ? holmAdjust(pValues) : [...pValues];
}
