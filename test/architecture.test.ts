import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of src/, held against the code: data flows one way (scenario →
 * plan → platforms + measures → samples → stats → report/gate), so a module
 * imports only from its own layer's folder or from a lower layer, there are
 * no import cycles, no folder is a crowd and no file a novel.
 */

const SRC = resolve(__dirname, '../src');

/** Lower first. A module may import from its own unit or any unit of a lower layer (never a sibling of its layer). */
const LAYERS: string[][] = [
  ['errors.ts'],
  ['paths.ts'],
  ['stats', 'scenario'],
  ['results', 'workload'],
  ['loadgen'],
  ['platforms'],
  ['measure', 'workload/build'],
  ['runner', 'report'],
  ['gate'],
  ['cli'],
];

/** Files allowed beyond the line limit (generated-model encoder, in-guest server), each split where it can be. */
const LONG_FILES_ALLOWED = new Set(['workload/model/onnx-encoder.ts']);
const MAX_LINES = 450;
const MAX_FILES_PER_FOLDER = 20;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|mjs)$/.test(e) ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const unitOf = (file: string): string => {
  const units = LAYERS.flat().sort((a, b) => b.length - a.length);
  return units.find((u) => file === u || file.startsWith(`${u}/`)) ?? '?';
};
const rankOf = (unit: string) => LAYERS.findIndex((l) => l.includes(unit));

function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = (m[1] ?? m[2])!;
    out.push(relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));

describe('architecture', () => {
  it('every source file belongs to a layer', () => {
    expect(files.filter((f) => unitOf(f) === '?')).toEqual([]);
  });

  it('no module imports from a layer above it (or from a sibling unit of its layer)', () => {
    const bad: string[] = [];
    for (const [from, targets] of graph) {
      const u = unitOf(from);
      for (const to of targets) {
        const v = unitOf(to);
        if (u !== v && rankOf(v) >= rankOf(u)) bad.push(`${from} → ${to} (${u} imports ${v})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('there are no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it(`no folder holds more than ${MAX_FILES_PER_FOLDER} files`, () => {
    const counts = new Map<string, number>();
    for (const f of files) counts.set(dirname(f), (counts.get(dirname(f)) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > MAX_FILES_PER_FOLDER).map(([d, n]) => `${d}: ${n}`)).toEqual([]);
  });

  it(`no file is longer than ${MAX_LINES} lines (but the generated-model encoder)`, () => {
    const long = files
      .filter((f) => !LONG_FILES_ALLOWED.has(f))
      .map((f) => [f, readFileSync(join(SRC, f), 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > MAX_LINES);
    expect(long.map(([f, n]) => `${f}: ${n}`)).toEqual([]);
  });

  it('a substrate is a folder plus a line in the factory', () => {
    const factory = readFileSync(join(SRC, 'platforms/factory.ts'), 'utf8');
    for (const kind of ['docker', 'qemu', 'vagrant']) {
      expect(statSync(join(SRC, 'platforms', kind)).isDirectory()).toBe(true);
      expect(factory).toContain(`'./${kind}/`);
    }
  });
});
