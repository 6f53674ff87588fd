import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTerminalSummary } from '../../src/report/terminal-summary.js';
import { readRun } from '../../src/results/read-run.js';

const run = (id: string) => readRun(join(import.meta.dirname, '..', 'fixtures', 'runs', id));

describe('the end-of-run summary: the answer first', () => {
  it('smoke (container 2 CPUs, VM 1): the unequal-resources warning, then the decision, then one line per claim, then the warnings', () => {
    const lines = renderTerminalSummary(run('20261125-195847-smoke-ab6d')).split('\n');
    expect(lines[0]).toMatch(/^⚠ unequal resources — cpus: container 2 CPUs, vm 1 CPU; threads: .*: the comparison is not like for like$/);
    const decision = lines.findIndex((l) => l.startsWith('Decision: container, because it measured best on 6 of 6 measured drivers'));
    expect(decision).toBeGreaterThan(0);
    expect(lines[decision + 1]).toMatch(/^Sensitivity: /);
    const startup = lines.find((l) => l.includes('Startup time'))!;
    expect(startup).toMatch(/container 316 ms \(n=2\) · vm 24\.71 s \(n=2\) 78\.26× \[75\.58×–81\.03×\] REFUTED/);
    expect(lines.find((l) => l.includes('Density'))).toMatch(/Density\s+not measured$/);
    expect(lines.find((l) => l.startsWith('Capacity'))).toMatch(/not projectable \(no p99 SLO/);
    const tcg = lines.findIndex((l) => l.startsWith('⚠ vm ran under TCG'));
    expect(tcg).toBeGreaterThan(decision);
    // The full table is not in it: no row per phase.
    expect(lines.some((l) => l.includes('phase_'))).toBe(false);
  });

  it('four substrates: every one on each claim line, with its ratio to the reference', () => {
    const text = renderTerminalSummary(run('20261201-120000-isolation-spectrum-synthetic'));
    expect(text).not.toMatch(/^⚠ unequal/);
    expect(text).toMatch(/Startup time +runc 459 ms \(n=5\) · crun 341 ms \(n=5\) 0\.74× \[0\.69×–0\.78×\] confirmed · gvisor .* REFUTED · vm .* REFUTED/);
    expect(text).toMatch(/Capacity \(projection from one host's measurements, p99 ≤ 100 ms\): runc 1376 req\/s per host, 4 host\(s\)/);
  });
});
