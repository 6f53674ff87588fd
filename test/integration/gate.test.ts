import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';

// The CI gate end to end with the built CLI (dist/, built by `npm test`) on real Docker:
// scenarios/gate-smoke.yaml four times (A/A): a baseline of three runs vs the fourth → `bench compare`
// exits 0 (run-level test); against scenarios/gate-smoke-degraded.yaml (container CPU quota 2 → 0.25)
// → exits 1 naming cold_start. Each run takes ~10–20 s on this 2-core machine (10 cold starts of ResNet-18).
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-gate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FIXTURE = join(root, 'test', 'fixtures', 'runs', '20261125-195847-smoke-ab6d');

function bench(args: string[], env: Record<string, string> = {}) {
  return execa('node', [bin, ...args], { cwd: root, reject: false, timeout: 300_000, env: { CI: '1', ...env } });
}

async function runScenario(file: string, results: string): Promise<string> {
  const before = new Set(existsSync(results) ? readdirSync(results) : []);
  const r = await bench(['run', file, '--results', results]);
  expect(r.exitCode, r.stderr).toBe(0);
  const [id] = readdirSync(results).filter((d) => !before.has(d));
  return join(results, id!);
}

describe('bench compare / baseline / history without engines (recorded runs)', () => {
  it('a run compared with itself: exit 0, no regression', async () => {
    const r = await bench(['compare', FIXTURE, FIXTURE]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('no regression');
    expect(r.stdout).toContain('not testable (n=1)');
  });

  it('a run that did not complete: exit 3 (infrastructure), not 1', async () => {
    const failed = join(tmp, 'failed-run');
    cpSync(FIXTURE, failed, { recursive: true });
    const record = JSON.parse(readFileSync(join(failed, 'run.json'), 'utf8'));
    writeFileSync(join(failed, 'run.json'), JSON.stringify({ ...record, status: 'failed', error: { kind: 'infrastructure', message: 'docker died' } }));
    const r = await bench(['compare', FIXTURE, failed]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('did not complete');
    expect(r.stderr).toContain('docker died');
  });

  it('bad input: exit 2', async () => {
    expect((await bench(['compare', join(tmp, 'nope'), FIXTURE])).exitCode).toBe(2);
    expect((await bench(['compare', FIXTURE, FIXTURE, '--threshold', 'bogus=10%'])).exitCode).toBe(2);
    expect((await bench(['compare', FIXTURE, FIXTURE, '--alpha', '2'])).exitCode).toBe(2);
    const empty = await bench(['compare', tmp, FIXTURE]); // a baselines dir without a baseline for this host
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('bench baseline save');
  });

  it('--help documents exit codes and default thresholds', async () => {
    const h = await bench(['compare', '--help']);
    expect(h.stdout).toContain('Exit codes: 0 no regression · 1 regression found · 2 usage/input error');
    expect(h.stdout).toMatch(/\*\s+10%/);
    expect(h.stdout).toContain('Holm');
  });

  it('a baseline of several recorded runs: saved as one file, compared run against runs', async () => {
    const runs = join(tmp, 'multi');
    for (const i of [0, 1, 2]) {
      const dir = join(runs, `run-${i}`);
      cpSync(FIXTURE, dir, { recursive: true });
      const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...record, runId: `run-${i}`, startedAt: `2026-11-2${i}T00:00:00.000Z` }));
    }
    const file = join(tmp, 'multi.json');
    const save = await bench(['baseline', 'save', join(runs, 'run-0'), join(runs, 'run-1'), join(runs, 'run-2'), '--out', file]);
    expect(save.exitCode, save.stderr).toBe(0);
    expect(save.stderr).toContain('saved baseline of 3 runs');
    expect(JSON.parse(readFileSync(file, 'utf8')).runs).toHaveLength(3);
    const r = await bench(['compare', file, FIXTURE]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cold_start\s+container\s+\S+ ms \(3 runs, n=6\)/);
    expect(r.stdout).toContain('MDC (80% power)');
    expect((await bench(['baseline', 'save', runs, '--runs', '2', '--out', file])).exitCode).toBe(0);
    expect((await bench(['baseline', 'save', runs, '--runs', 'x'])).exitCode).toBe(2);
  });

  it('calibrate-noise --from-runs and history on recorded runs', async () => {
    const runs = join(tmp, 'hist');
    for (const [i, day] of ['20', '21', '22'].entries()) {
      const dir = join(runs, `run-${i}`);
      cpSync(FIXTURE, dir, { recursive: true });
      const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...record, runId: `run-${i}`, startedAt: `2026-11-${day}T00:00:00.000Z` }));
    }
    const noiseFile = join(tmp, 'noise.json');
    const n = await bench(['calibrate-noise', '--from-runs', join(runs, 'run-0'), join(runs, 'run-1'), '--out', noiseFile]);
    expect(n.exitCode, n.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(noiseFile, 'utf8'));
    expect(profile.kind).toBe('vmbench-noise');
    expect(profile.metrics.find((m: { metric: string }) => m.metric === 'memory_host').relativeSpread).toBe(0);

    const out = join(tmp, 'charts');
    const h = await bench(['history', runs, '--out', out, '--markdown', join(tmp, 'history.md')]);
    expect(h.exitCode, h.stderr).toBe(0);
    expect(h.stdout).toContain('cold_start');
    expect(readFileSync(join(out, 'cold_start.svg'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(tmp, 'history.md'), 'utf8')).toContain('| metric |');
  });
});

describe('the CI gate end to end on Docker', () => {
  const results = join(tmp, 'results');
  const baselines = join(tmp, 'baselines');
  const aa: string[] = [];

  it('A/A: a baseline of three runs vs a fourth → compare exits 0; a single-run baseline warns', async () => {
    for (let i = 0; i < 4; i++) aa.push(await runScenario('scenarios/gate-smoke.yaml', results));
    const save = await bench(['baseline', 'save', aa[0]!, aa[1]!, aa[2]!, '--dir', baselines]);
    expect(save.exitCode, save.stderr).toBe(0);
    const file = save.stdout.trim();
    expect(file).toMatch(/baselines\/[0-9a-f]{12}\/gate-smoke\.json$/);
    expect(save.stderr).toContain('saved baseline of 3 runs');

    const summary = join(tmp, 'step-summary.md');
    const reports = join(tmp, 'reports-aa');
    // α = 0.01: a correct run-level test then fails an A/A night with probability ≤ 0.5 %.
    const viaBaseline = await bench(
      ['compare', baselines, aa[3]!, '--alpha', '0.01', '--junit', join(reports, 'gate.xml'), '--markdown', join(reports, 'gate.md'), '--github-benchmark', reports],
      { GITHUB_STEP_SUMMARY: summary },
    );
    expect(viaBaseline.exitCode, viaBaseline.stdout + viaBaseline.stderr).toBe(0);
    expect(viaBaseline.stdout).toMatch(/cold_start\s+container\s+\S+ ms \(3 runs, n=\d+\)/);
    expect(viaBaseline.stdout).toContain('MDC (80% power)');
    expect(readFileSync(summary, 'utf8')).toContain('vmbench compare: ✅');
    const junit = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(reports, 'gate.xml'), 'utf8'));
    expect(junit.testsuites['@_failures']).toBe('0');
    const smaller = JSON.parse(readFileSync(join(reports, 'customSmallerIsBetter.json'), 'utf8'));
    expect(smaller.map((e: { name: string }) => e.name)).toContain('cold_start (container)');

    // One run against one run: the within-run fallback, with its warning (the threshold keeps the known drift from failing it).
    const direct = await bench(['compare', aa[0]!, aa[3]!, '--threshold', 'cold_start.median=75%']);
    expect(direct.exitCode, direct.stdout + direct.stderr).toBe(0);
    expect(direct.stdout).toContain('the baseline is a single run');
  });

  it('degraded (CPU quota cut to an eighth) → compare exits 1 and names cold_start', async () => {
    const degraded = await runScenario('scenarios/gate-smoke-degraded.yaml', join(tmp, 'degraded'));
    const reports = join(tmp, 'reports-deg');
    const r = await bench(['compare', baselines, degraded, '--junit', join(reports, 'gate.xml'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('REGRESSION: cold_start on container');
    const json = JSON.parse(r.stdout);
    expect(json.exitCode).toBe(1);
    expect(json.regressions.map((x: { metric: string }) => x.metric)).toEqual(['cold_start']);
    const xml = readFileSync(join(reports, 'gate.xml'), 'utf8');
    const junit = new XMLParser({ ignoreAttributes: false }).parse(xml);
    expect(junit.testsuites['@_failures']).toBe('1');
    expect(xml).toMatch(/<testcase classname="vmbench.container" name="cold_start"[^>]*>\s*<failure/);
  });
});
