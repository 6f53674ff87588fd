import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';

type Schema = Record<string, unknown>;

/**
 * A deliberately small JSON-schema checker, enough for the keywords zod emits
 * here (type, properties, required, additionalProperties, enum, const,
 * pattern, items, anyOf, oneOf, numeric and length bounds). Returns the paths
 * that fail.
 */
function check(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (options) {
      const passing = options.filter((o) => check(o, value, path).length === 0).length;
      if (key === 'anyOf' ? passing === 0 : passing !== 1) fail(`${key}: ${passing} options match`);
    }
  }
  if ('const' in schema && schema.const !== value) fail(`expected const ${String(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) fail(`not in enum ${schema.enum.join('|')}`);
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [...errors, `${path}: not an object`];
      const record = value as Record<string, unknown>;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const req of (schema.required ?? []) as string[]) if (!(req in record)) fail(`missing ${req}`);
      for (const [k, v] of Object.entries(record)) {
        const sub = props[k];
        if (sub) errors.push(...check(sub, v, `${path}.${k}`));
        else if (schema.additionalProperties === false) fail(`unexpected key ${k}`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [...errors, `${path}: not an array`];
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('too few items');
      if (schema.items) value.forEach((v, i) => errors.push(...check(schema.items as Schema, v, `${path}[${i}]`)));
      break;
    case 'string':
      if (typeof value !== 'string') return [...errors, `${path}: not a string`];
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) fail(`does not match ${schema.pattern}`);
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) fail('too long');
      if (typeof schema.minLength === 'number' && value.length < schema.minLength) fail('too short');
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) {
        return [...errors, `${path}: not ${schema.type === 'integer' ? 'an integer' : 'a number'}`];
      }
      if (typeof schema.minimum === 'number' && value < schema.minimum) fail('below minimum');
      if (typeof schema.maximum === 'number' && value > schema.maximum) fail('above maximum');
      if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) fail('not above exclusiveMinimum');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail('not a boolean');
      break;
    default:
      break;
  }
  return errors;
}

const schema = scenarioJsonSchema();
const props = schema.properties as Record<string, Schema>;
const sub = (s: Schema, ...keys: string[]): Schema =>
  keys.reduce((acc, k) => (acc.properties as Record<string, Schema>)[k] as Schema, s);
const platformOptions = ((props.platforms as Schema).items as Schema).oneOf as Schema[];
const platformOf = (kind: string) =>
  platformOptions.find((o) => (sub(o, 'kind') as Schema).const === kind) as Schema;

describe('scenario JSON schema', () => {
  it('is a draft-07 object schema that rejects unknown keys', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name', 'workload', 'platforms', 'measurements']);
    expect(schema.title).toBe('vmbench scenario');
  });

  it('lists enums and platform kinds', () => {
    expect(platformOptions.map((o) => (sub(o, 'kind') as Schema).const)).toEqual(['docker', 'qemu', 'vagrant']);
    expect(sub(platformOf('qemu'), 'accel').enum).toEqual(['auto', 'kvm', 'tcg']);
    expect(sub(platformOf('qemu'), 'machine').enum).toEqual(['auto', 'microvm', 'pc', 'q35']);
    expect(sub(platformOf('docker'), 'network').enum).toEqual(['host', 'bridge']);
    expect(sub(platformOf('qemu'), 'cpus').type).toBe('integer');
    expect(sub(platformOf('docker'), 'cpus').type).toBe('number');
    expect(sub(schema, 'workload', 'device').enum).toEqual(['cpu', 'gpu']);
    expect((sub(schema, 'report', 'formats').items as Schema).enum).toEqual(['json', 'markdown', 'html', 'decision', 'charts', 'exports']);
    expect(sub(schema, 'measurements', 'throughput', 'mode').enum).toEqual(['closed', 'open']);
  });

  it('describes durations and sizes as strings with a pattern (the input side)', () => {
    const timeout = sub(schema, 'measurements', 'startup', 'timeout');
    expect(timeout.type).toBe('string');
    expect(timeout.default).toBe('180s');
    expect(String(timeout.description)).toMatch(/duration/);
    const pattern = new RegExp(String(timeout.pattern));
    for (const ok of ['500ms', '30s', '2m', '1h', '1.5s']) expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ['30', '30 sec', '1d', '']) expect(pattern.test(bad), bad).toBe(false);

    const memory = sub(platformOf('docker'), 'memory');
    expect(memory.type).toBe('string');
    const sizePattern = new RegExp(String(memory.pattern));
    for (const ok of ['512MiB', '2GiB', '2GB', '100KiB', '64B']) expect(sizePattern.test(ok), ok).toBe(true);
    for (const bad of ['1024', '2 gigs', '2G']) expect(sizePattern.test(bad), bad).toBe(false);
  });

  it('carries no int-range noise', () => {
    expect(JSON.stringify(schema)).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });

  it.each(['scenarios/cpu-resnet.yaml', 'scenarios/smoke.yaml', 'scenarios/gpu-resnet.yaml'])('validates %s', async (file) => {
    expect(check(schema, parse(await readFile(file, 'utf8')))).toEqual([]);
  });

  it('rejects what the loader rejects (where JSON schema can say so)', async () => {
    const reference = parse(await readFile('scenarios/cpu-resnet.yaml', 'utf8')) as Record<string, any>;
    const variant = (edit: (s: Record<string, any>) => void) => {
      const copy = structuredClone(reference);
      edit(copy);
      return check(schema, copy);
    };
    expect(variant((s) => (s.platforms[1].memory = '2 gigs'))).not.toEqual([]);
    expect(variant((s) => (s.measurements.startup.timeout = 30))).not.toEqual([]);
    expect(variant((s) => (s.platforms[1].accel = 'xen'))).not.toEqual([]);
    expect(variant((s) => (s.platforms[0].kind = 'podman'))).not.toEqual([]);
    expect(variant((s) => (s.colour = 'red'))).not.toEqual([]);
    expect(variant((s) => delete s.platforms)).not.toEqual([]);
    expect(variant((s) => (s.workload.model = 'net.pt'))).not.toEqual([]);
    expect(variant((s) => (s.workload.model = 'models/net.onnx'))).toEqual([]);
  });

  it('matches schemas/scenario.schema.json (run `npm run build` to refresh it)', async () => {
    const onDisk = await readFile('schemas/scenario.schema.json', 'utf8');
    expect(onDisk).toBe(`${JSON.stringify(schema, null, 2)}\n`);
  });
});
