/**
 * Reading scenario files. Every problem (YAML syntax, unknown or missing keys,
 * wrong types, bad durations and sizes, cross-field rules) is reported with
 * file:line:column and the key path, all of them at once, as one
 * BenchError('input').
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { BenchError, messageOf } from '../errors.js';
import { PLATFORM_KINDS, platformSchema, scenarioSchema, scenarioSemanticIssues, type Scenario } from './schema.js';
import { mergeCliHosts } from './hosts.js';
import { describeValue } from './units.js';
import { resolveWorkloadPaths } from './workload-paths.js';

export type KeyPath = readonly (string | number)[];

/** One problem in a scenario file. Lines and columns are 1-based. */
export interface ScenarioIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. "platforms[1].memory"; "" for the whole file or a syntax error. */
  path: string;
  message: string;
}

export interface ParseScenarioOptions {
  /** Check that a workload.model path names an existing file (loadScenario does). Default false. */
  checkFiles?: boolean;
  /** Hosts from the command line (`--host NAME=URL`, already checked by parseHostFlag): merged into hosts: before validation. */
  hosts?: readonly { name: string; url: string }[];
}

const SCHEMA_HINT =
  'schemas/scenario.schema.json describes every key; editors with YAML language support check the file as you type.';

/** A validated scenario and where each of its keys is in the file (for checks made later, e.g. the host preflight). */
export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** 1-based line and column of the value at `path` (of its mapping when the key is absent). */
  locate(path: KeyPath): { line: number; column: number };
}

/** Read, validate and normalise a scenario file. */
export async function loadScenario(file: string): Promise<Scenario> {
  return (await loadScenarioFile(file)).scenario;
}

/** loadScenario, keeping the positions of the keys. */
export async function loadScenarioFile(file: string, options: Pick<ParseScenarioOptions, 'hosts'> = {}): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : messageOf(err);
    throw new BenchError('input', `cannot read scenario file ${file}: ${why}`, {
      cause: err,
      hint: 'Scenario files live in scenarios/, e.g. scenarios/smoke.yaml.',
    });
  }
  return parseScenarioLocated(text, file, { checkFiles: true, hosts: options.hosts });
}

/**
 * Validate scenario YAML `text` read from `file` (used for messages and to
 * resolve a relative workload.model path against the file's directory).
 */
export function parseScenario(text: string, file: string, options: ParseScenarioOptions = {}): Scenario {
  return parseScenarioLocated(text, file, options).scenario;
}

export function parseScenarioLocated(text: string, file: string, options: ParseScenarioOptions = {}): LoadedScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  if (doc.errors.length > 0) {
    throw issuesError(
      doc.errors.map((err) => ({
        file,
        ...at(err.pos[0]),
        path: '',
        message: `YAML syntax error: ${err.message}${err.code === 'TAB_AS_INDENT' ? ' (indent with spaces)' : ''}`,
      })),
    );
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // In practice an alias whose anchor is not defined (before it).
    let offset = 0;
    visit(doc, {
      Alias(_, node) {
        if (node.resolve(doc) !== undefined) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    throw issuesError([{ file, ...at(offset), path: '', message: `YAML error: ${messageOf(err)}` }]);
  }
  if (raw === null || raw === undefined) {
    throw issuesError([
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: 'expected a mapping with name, workload, platforms and measurements, got an empty file',
      },
    ]);
  }

  if (options.hosts?.length && isPlainObject(raw)) {
    (raw as Record<string, unknown>).hosts = mergeCliHosts((raw as Record<string, unknown>).hosts, options.hosts);
  }

  const issues: ScenarioIssue[] = [];
  const seen = new Set<string>();
  const add = (path: KeyPath, message: string, where: { line: number; column: number }) => {
    const key = `${formatPath(path)}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push({ file, ...where, path: formatPath(path), message });
  };

  const result = scenarioSchema.safeParse(raw, { reportInput: true, error: describeIssue });
  for (const issue of result.error?.issues ?? []) {
    const issuePath = issue.path.map((seg) => (typeof seg === 'symbol' ? String(seg) : seg));
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issuePath, raw);
      for (const key of issue.keys) {
        const path = [...issuePath, key];
        add(path, unknownKeyMessage(key, allowed), at(locate(doc, path).keyOffset));
      }
      continue;
    }
    const place = locate(doc, issuePath);
    const message = place.found ? issue.message : missingKeyMessage(issuePath, issue.message);
    add(issuePath, message, at(place.offset));
  }
  // A platform without a valid kind gets no per-kind key check from zod: name its unknown keys
  // against every platform key, so a typo such as "kimd" is pointed at (did you mean "kind"?).
  for (const [i, entry] of (Array.isArray((raw as { platforms?: unknown }).platforms) ? ((raw as { platforms: unknown[] }).platforms) : []).entries()) {
    if (!isPlainObject(entry) || PLATFORM_KINDS.includes(entry.kind as (typeof PLATFORM_KINDS)[number])) continue;
    for (const key of Object.keys(entry)) {
      if (ALL_PLATFORM_KEYS.includes(key)) continue;
      const path = ['platforms', i, key];
      add(path, unknownKeyMessage(key, ALL_PLATFORM_KEYS), at(locate(doc, path).keyOffset));
    }
  }
  // The schema runs these too, but zod skips refinements after some failures.
  for (const issue of scenarioSemanticIssues(raw)) {
    const place = locate(doc, issue.path);
    add(issue.path, issue.message, at(place.offset));
  }

  if (result.success && issues.length === 0) {
    const scenario = result.data;
    for (const p of resolveWorkloadPaths(scenario.workload, file, options.checkFiles === true)) {
      const path = ['workload', ...p.path];
      add(path, p.message, at(locate(doc, path).offset));
    }
    // GPU directories are relative to the scenario file too (checked by the GPU preflight, not here).
    const gpu = scenario.workload.gpu;
    if (gpu?.providers !== undefined) gpu.providers = resolve(dirname(file), gpu.providers);
    if (gpu?.guest_driver !== undefined) gpu.guest_driver = resolve(dirname(file), gpu.guest_driver);
    if (issues.length === 0) return { scenario, file, locate: (path) => at(locate(doc, path).offset) };
  }
  if (issues.length === 0) {
    // A zod failure that produced no issues cannot happen; keep the error honest if it does.
    throw new BenchError('internal', `scenario ${file} failed validation without any reported issue`);
  }
  throw issuesError(issues);
}

/** One BenchError listing every issue, sorted by position; `location` is the first one's. */
export function issuesError(issues: ScenarioIssue[], kind: 'input' | 'unsupported' = 'input', hint = SCHEMA_HINT): BenchError {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
  const lines = sorted.map(formatIssue);
  const first = sorted[0];
  if (first === undefined) return new BenchError('internal', 'issuesError() called without issues');
  const message =
    lines.length === 1 ? (lines[0] ?? '') : `${first.file}: ${lines.length} problems\n${lines.join('\n')}`;
  return new BenchError(kind, message, {
    hint,
    location: { file: first.file, line: first.line, column: first.column, path: first.path },
  });
}

export function formatIssue(issue: ScenarioIssue): string {
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${issue.file}:${issue.line}:${issue.column}: ${path}${issue.message}`;
}

/** ["platforms", 1, "memory"] → "platforms[1].memory" */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

// ------------------------------------------------------------ zod messages

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** Parse-level error map: messages for issues the schema did not phrase itself. */
function describeIssue(iss: z.core.$ZodRawIssue): string | undefined {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${got}`;
    case 'too_small':
      if (iss.origin === 'array') {
        const n = Number(iss.minimum);
        return `expected at least ${n} item${n === 1 ? '' : 's'}, got ${Array.isArray(iss.input) && iss.input.length === 0 ? 'an empty list' : got}`;
      }
      if (iss.origin === 'string') return `expected at least ${Number(iss.minimum)} characters, got ${got}`;
      return iss.inclusive === false
        ? `expected a number greater than ${Number(iss.minimum)}, got ${got}`
        : `expected a number of at least ${Number(iss.minimum)}, got ${got}`;
    case 'too_big':
      if (iss.origin === 'array') return `expected at most ${Number(iss.maximum)} items, got ${got}`;
      if (iss.origin === 'string') return `expected at most ${Number(iss.maximum)} characters, got ${got}`;
      return iss.inclusive === false
        ? `expected a number less than ${Number(iss.maximum)}, got ${got}`
        : `expected a number of at most ${Number(iss.maximum)}, got ${got}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${JSON.stringify(iss.values[0])}, got ${got}`
        : `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
    default:
      return undefined;
  }
}

/** Rephrase an issue about a key that is not in the file at all. */
function missingKeyMessage(path: KeyPath, message: string): string {
  const key = path[path.length - 1];
  if (key === undefined || typeof key === 'number' || message.startsWith('missing required key')) return message;
  const expected = message.replace(/, got nothing$/, '').replace(/, got nothing \(.*\)$/, '');
  return `missing required key "${key}" (${expected})`;
}

function unknownKeyMessage(key: string, allowed: string[] | undefined): string {
  let message = `unknown key "${key}"`;
  if (allowed === undefined || allowed.length === 0) return message;
  const suggestion = closest(key, allowed);
  if (suggestion !== undefined) message += ` (did you mean "${suggestion}"?)`;
  return `${message}; expected one of: ${allowed.join(', ')}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The keys the schema allows in the mapping at `path` (following `data` through discriminated unions). */
function allowedKeys(path: KeyPath, data: unknown): string[] | undefined {
  let schema: z.ZodType | undefined = scenarioSchema;
  let value = data;
  const step = (): z.ZodType | undefined => {
    let s: z.ZodType | undefined = schema;
    for (let i = 0; i < 20 && s !== undefined; i++) {
      if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
        s = s.unwrap() as z.ZodType;
      } else if (s instanceof z.ZodPipe) {
        s = s.in as z.ZodType;
      } else if (s instanceof z.ZodDiscriminatedUnion) {
        const kind = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).kind : undefined;
        s = (s.options as z.ZodType[]).find(
          (o) => o instanceof z.ZodObject && (o.shape as Record<string, z.ZodType>).kind?.safeParse(kind).success,
        );
      } else {
        return s;
      }
    }
    return s;
  };
  for (const seg of path) {
    const s = step();
    if (s instanceof z.ZodObject && typeof seg === 'string') {
      schema = (s.shape as Record<string, z.ZodType>)[seg];
    } else if (s instanceof z.ZodArray && typeof seg === 'number') {
      schema = s.element as z.ZodType;
    } else if (s instanceof z.ZodRecord && typeof seg === 'string') {
      schema = s.valueType as z.ZodType;
    } else {
      return undefined;
    }
    value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  const s = step();
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every key any platform kind allows (for naming typos where the kind itself is missing). */
const ALL_PLATFORM_KEYS: string[] = [
  ...new Set((platformSchema.options as z.ZodType[]).flatMap((o) => (o instanceof z.ZodObject ? Object.keys(o.shape) : []))),
];

// ---------------------------------------------------------- YAML positions

interface Place {
  /** Whether the node at the full path exists. */
  found: boolean;
  /** Source offset to report: the value, or the parent mapping when the key is missing. */
  offset: number;
  /** Offset of the key itself (for unknown keys); same as `offset` for list items and the root. */
  keyOffset: number;
}

function locate(doc: Document, path: KeyPath): Place {
  let node: unknown = doc.contents;
  let keyOffset = start(node) ?? 0;
  for (const seg of path) {
    const here = start(node) ?? keyOffset;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) return { found: false, offset: here, keyOffset: here };
      keyOffset = start(pair.key) ?? here;
      node = pair.value;
      if (node === null || node === undefined) return { found: true, offset: keyOffset, keyOffset };
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) return { found: false, offset: here, keyOffset: here };
      node = item;
      keyOffset = start(node) ?? here;
    } else {
      return { found: false, offset: here, keyOffset: here };
    }
  }
  let offset = start(node) ?? keyOffset;
  // `memory:` with nothing after it: point at the key rather than at the end of the line.
  if (isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1]) offset = keyOffset;
  return { found: true, offset, keyOffset };
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function start(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
