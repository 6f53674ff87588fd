import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { neighborRows } from '../../src/report/isolation/boundary-cost.js';
import { runView } from '../../src/report/run-view.js';
import { readRun, type StoredRun } from '../../src/results/read-run.js';

const SPECTRUM = readRun(join(import.meta.dirname, '..', 'fixtures', 'runs', '20261201-120000-isolation-spectrum-synthetic'));

describe('noisy-neighbour rows', () => {
  it('a window where no request of the victim completed is a row that says so, not a missing row', () => {
    const vm = 'vm';
    const k = 1;
    // As under TCG: at K = 1 the victim's one request timed out: a 0 req/s window, no latency samples.
    const samples = SPECTRUM.samples
      .filter((s) => !(s.platform === vm && (s.metric === 'neighbor_p50' || s.metric === 'neighbor_p99') && s.params?.neighbors === k))
      .map((s) => (s.platform === vm && s.metric === 'neighbor_throughput' && s.params?.neighbors === k ? { ...s, value: 0, metadata: { ...s.metadata, requests: 0, timeouts: 1, errors: 0 } } : s));
    const run: StoredRun = { ...SPECTRUM, samples };
    const rows = neighborRows(runView(run)).filter((r) => r.platform === vm);
    const atK = rows.find((r) => r.neighbors === k)!;
    expect(atK).toBeDefined();
    const windows = samples.filter((s) => s.platform === vm && s.metric === 'neighbor_throughput' && s.params?.neighbors === k).length;
    expect(atK.p99).toBe(`none completed (${windows} timed out, 0 failed)`);
    expect(atK.p99Inflation).toBe('—');
    // The other rows keep their figures.
    expect(rows.find((r) => r.neighbors === 0)!.p99).toMatch(/ms|s$/);
  });
});
