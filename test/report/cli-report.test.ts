import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

// `bench report` through the real CLI entry point (transpiled on the fly by tsx, so no build is needed).
const root = join(import.meta.dirname, '..', '..');
const FIXTURES = join(root, 'test', 'fixtures', 'runs');
const RESNET = join(FIXTURES, '20261125-201601-cpu-resnet-a564');
const SMOKE = join(FIXTURES, '20261125-195847-smoke-ab6d');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-cli-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bench(args: string[]) {
  return execa('node', ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, reject: false, env: { CI: '1' }, timeout: 60_000 });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('bench report', () => {
  it('renders a stored run and re-renders it byte for byte in a fresh process', async () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const r1 = await bench(['report', RESNET, '--out', a]);
    expect(r1.stderr).toBe('');
    expect(r1.exitCode).toBe(0);
    const r2 = await bench(['report', RESNET, '--out', b]);
    expect(r2.exitCode).toBe(0);
    const files = listFiles(a);
    expect(files).toEqual(expect.arrayContaining(['report.html', 'decision.md', 'results.json', 'samples.csv', 'summary-table.md', 'charts/cold-start.vl.json', 'charts/cold-start.svg', 'charts/cold-start.png', 'charts/density.png']));
    expect(listFiles(b)).toEqual(files);
    for (const f of files) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
  }, 60_000);

  it('puts several runs side by side', async () => {
    const out = join(tmp, 'both');
    const r = await bench(['report', SMOKE, RESNET, '--out', out, '--formats', 'html,decision']);
    expect(r.exitCode).toBe(0);
    expect(listFiles(out)).toEqual(['decision.md', 'report.html']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('20261125-195847-smoke-ab6d · container');
    expect(html).toContain('20261125-201601-cpu-resnet-a564 · vm [TCG]');
  }, 60_000);

  it('a run.json of an unreadable schema version fails with a clear message and exit 2', async () => {
    const old = join(tmp, 'old-run');
    cpSync(SMOKE, old, { recursive: true });
    const record = JSON.parse(readFileSync(join(old, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(old, 'run.json'), JSON.stringify({ ...record, schemaVersion: 0 }));
    const r = await bench(['report', old, '--out', join(tmp, 'old-out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('run record schema version 0 is not readable by this vmbench');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('not a results directory, or an unknown format: exit 2', async () => {
    const r = await bench(['report', join(tmp, 'nope')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no such results directory');
    const f = await bench(['report', RESNET, '--formats', 'pdf']);
    expect(f.exitCode).toBe(2);
    expect(f.stderr).toContain('--formats');
  }, 60_000);
});

describe('bench report: analysis flags', () => {
  it('--reference, a capacity target and host profile, and a scenario file\'s requirements shape decision.md', async () => {
    const out = join(tmp, 'flags');
    const r = await bench([
      'report', RESNET, '--out', out, '--formats', 'decision',
      '--scenario', join(root, 'test', 'fixtures', 'scenarios', 'require-own-kernel.yaml'),
      '--target-rate', '1000', '--slo-p99', '300ms', '--host-cores', '64', '--host-memory', '256GiB', '--price-per-hour', '2', '--currency', 'EUR',
    ]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const md = readFileSync(join(out, 'decision.md'), 'utf8');
    expect(md).toContain('Chosen option: **vm**, because it is the only option that meets every requirement');
    expect(md).toContain('p99 ≤ 300 ms (capacity.slo_p99); target 1000 req/s; host 64 cores, 256 GiB (the capacity host profile), 2 EUR per host-hour');
    expect(md).toMatch(/\| container \| 25 req\/s .*\| 32 .*cpu-bound.* \| 800 req\/s .*\| 2 .*\| 1\.11 EUR/);
  }, 60_000);

  it('an unknown --reference is an input error naming the platforms there are', async () => {
    const r = await bench(['report', RESNET, '--out', join(tmp, 'bad-ref'), '--reference', 'gvisor']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--reference gvisor: run 20261125-201601-cpu-resnet-a564 has no such platform (it has container, vm)');
  }, 60_000);
});
