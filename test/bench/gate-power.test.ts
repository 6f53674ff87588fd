import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { draws, measuredChange, replay, runMedians, type ReplayInput } from '../../bench/gate-power-replay.js';
import { interleave, loadRuns, writeSyntheticRuns } from '../../bench/gate-power-runs.js';
import { seededRandom } from '../../src/stats/random.js';
import { simulatedRuns } from '../gate/samples.js';

// The replay half of bench/gate-power.ts on synthetic runs (the make half needs Docker and is run by hand).
const HOST = { n: 10, center: 300, runSd: 0.05, sampleSd: 0.06 };
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-gate-power-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('gate-power replay', () => {
  it('draws: every disjoint split when there are few, seeded samples otherwise', () => {
    const all = draws(5, [2, 1], 1000, seededRandom(1));
    expect(all).toHaveLength(10 * 3); // C(5,2)·C(3,1)
    for (const [b, c] of all) expect(b!.filter((i) => c!.includes(i))).toEqual([]);
    const some = draws(12, [8, 3], 50, seededRandom(1));
    expect(some).toHaveLength(50);
    expect(new Set(some[0]!.flat()).size).toBe(11);
  });

  it('false alarms stay near α on A/A runs; synthetic and real injected changes are caught more often the bigger they are', () => {
    const aa = simulatedRuns(12, { ...HOST, seed: 1 });
    const input: ReplayInput = {
      aa,
      injected: [{ label: 'cpus 1.5', cpus: 1.5, intended: 0.3, runs: simulatedRuns(4, { ...HOST, seed: 2, shift: 0.3 }) }],
    };
    expect(measuredChange(aa, input.injected[0]!.runs, 'cold_start')).toBeGreaterThan(0.15);
    expect(runMedians(aa, 'cold_start')).toHaveLength(12);
    const [r] = replay(input, {
      metric: 'cold_start',
      gate: { alpha: 0.05 },
      designs: [{ baselineRuns: 8, currentRuns: 1, noiseRuns: 0 }],
      thresholds: [0.05],
      syntheticChanges: [0.05, 0.3],
      fineChanges: [0.1, 0.2, 0.3, 0.5],
      maxComparisons: 100,
      seed: 1,
    });
    expect(r!.falseAlarms.trials).toBe(100);
    expect(r!.falseAlarms.hits / 100).toBeLessThan(0.15);
    expect(r!.disjoint).toBe(1);
    expect(r!.synthetic[1]!.detected.hits).toBeGreaterThan(r!.synthetic[0]!.detected.hits);
    expect(r!.synthetic[1]!.detected.hits / 100).toBeGreaterThan(0.7);
    expect(r!.injected[0]!.detected.trials).toBe(100);
    expect(r!.injected[0]!.detected.hits / 100).toBeGreaterThan(0.5);
    expect(r!.medianMdc).toBeGreaterThan(0.05);
    expect(r!.smallestAt80).not.toBeNull();
  });

  it('synthetic runs on disk read back as A/A and injected groups, interleaved in time', () => {
    const out = join(tmp, 'synth');
    writeSyntheticRuns({
      out,
      template: 'test/fixtures/runs/20261125-195847-smoke-ab6d',
      scenarioFile: 'scenarios/gate-smoke.yaml',
      aaRuns: 4,
      runsPerLevel: 2,
      levels: [0.1, 0.2],
      samplesPerRun: 5,
      center: 300,
      runSd: 0,
      sampleSd: 0,
      seed: 1,
    });
    const loaded = loadRuns(out);
    expect(loaded.scenario).toBe('gate-smoke');
    expect(loaded.input.aa).toHaveLength(4);
    expect(loaded.input.injected.map((g) => [g.intended, g.runs.length])).toEqual([
      [0.1, 2],
      [0.2, 2],
    ]);
    // No noise: the measured change is exactly the injected one.
    expect(measuredChange(loaded.input.aa, loaded.input.injected[1]!.runs, 'cold_start')).toBeCloseTo(0.2, 10);
    expect(interleave([1, 2, 3], ['a'])).toEqual([1, 'a', 2, 3]);
  });
});
