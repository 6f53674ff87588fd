import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseScenario } from '../../src/scenario/load.js';

// The example nightly workflow cannot run here; this checks that it is valid YAML with the structure CI needs.
const root = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(root, '.github', 'workflows', 'nightly.yml'), 'utf8');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

const wf = parse(text, { uniqueKeys: true }) as {
  name: string;
  on: { schedule: Array<{ cron: string }>; workflow_dispatch: unknown };
  jobs: Record<string, { 'runs-on': unknown; steps: Step[]; env?: Record<string, string>; needs?: string; strategy?: { matrix?: { runner?: unknown } }; concurrency?: { group?: string } }>;
};
const job = Object.values(wf.jobs)[0]!;
const steps = job.steps;
const runText = steps.map((s) => s.run ?? '').join('\n');

describe('.github/workflows/nightly.yml', () => {
  it('is scheduled nightly and can be started by hand', () => {
    expect(wf.on.schedule[0]!.cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(wf.on.workflow_dispatch).toBeDefined();
  });

  it('checks out, sets up Node 20 and the host', () => {
    expect(steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true);
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
    expect(String(node.with?.['node-version'])).toBe('20');
    expect(runText).toContain('./scripts/setup.sh');
  });

  it('runs a shipped, valid scenario and compares it with the stored baseline, writing JUnit and Markdown', () => {
    expect(runText).toMatch(/npx bench run "\$SCENARIO" --results results/);
    const scenario = /'(scenarios\/[a-z0-9-]+\.yaml)'/.exec(job.env!.SCENARIO!)![1]!;
    const file = join(root, scenario);
    expect(() => parseScenario(readFileSync(file, 'utf8'), file)).not.toThrow();
    const compare = steps.find((s) => s.run?.includes('npx bench compare'))!;
    expect(compare.run).toContain('baselines/');
    expect(compare.run).toContain('--junit');
    expect(compare.run).toContain('--markdown');
    expect(compare.id).toBe('compare');
    // Every bench subcommand it uses exists.
    for (const m of runText.matchAll(/npx bench ([a-z-]+)/g)) {
      expect(['run', 'compare', 'baseline', 'history', 'calibrate-noise', 'validate', 'doctor']).toContain(m[1]);
    }
  });

  it('runs several runs a night and compares them with a baseline of several runs (runs are the unit of replication)', () => {
    expect(Number(job.env!.RUNS_PER_NIGHT)).toBeGreaterThanOrEqual(2);
    expect(Number(job.env!.BASELINE_RUNS)).toBeGreaterThanOrEqual(3);
    const run = steps.find((s) => s.id === 'run')!;
    expect(run.run).toMatch(/for i in \$\(seq 1 "\$RUNS_PER_NIGHT"\)/);
    expect(run.run).toContain('dirs=');
    const compare = steps.find((s) => s.id === 'compare')!;
    expect(compare.env?.DIRS).toContain('steps.run.outputs.dirs');
    expect(compare.run).toMatch(/npx bench compare baselines\/ \$DIRS/);
    const save = steps.find((s) => s.run?.includes('npx bench baseline save'))!;
    expect(save.if).toContain('inputs.save_baseline');
    expect(save.run).toMatch(/npx bench baseline save "\$SCENARIO" --runs "\$BASELINE_RUNS"/);
    expect(save.run).toMatch(/npx bench baseline save results\/ --runs "\$BASELINE_RUNS"/);
  });

  it('uploads results and reports even when the gate fails', () => {
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('always()');
    expect(String(upload.with?.path)).toContain('results/');
    expect(String(upload.with?.path)).toContain('reports/');
  });

  it('fails on a regression (exit 1) and tells an infrastructure failure (exit 3) apart', () => {
    const verdict = steps[steps.length - 1]!;
    expect(verdict.if).toBe('always()');
    expect(verdict.env?.COMPARE_EXIT).toContain('steps.compare.outputs.exit');
    expect(verdict.run).toMatch(/1\)[^\n]*exit 1/);
    expect(verdict.run).toMatch(/"3"[\s\S]*exit 3/);
    expect(verdict.run).toMatch(/Infrastructure failure/);
  });

  it('is a matrix over runner labels, each host gated on its own, and a fleet history grouped by host', () => {
    const gate = wf.jobs.gate!;
    expect(Array.isArray(gate.strategy?.matrix?.runner)).toBe(true);
    expect(JSON.stringify(gate['runs-on'])).toContain('${{ matrix.runner }}');
    expect(gate.concurrency?.group).toContain('${{ matrix.runner }}');
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(String(upload.with?.name)).toContain('${{ matrix.runner }}');
    const fleet = wf.jobs.fleet!;
    expect(fleet.needs).toBe('gate');
    const download = fleet.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(String(download.with?.pattern)).toMatch(/^vmbench-nightly-\$\{\{ github.run_id \}\}-\*$/);
    expect(fleet.steps.map((s) => s.run ?? '').join('\n')).toMatch(/npx bench history results\/ --all-hosts/);
  });
});
