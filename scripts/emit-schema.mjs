#!/usr/bin/env node
// Writes schemas/scenario.schema.json from the zod schema compiled by tsc
// (dist/scenario/json-schema.js), so editors validate scenarios/*.yaml:
//
//   # yaml-language-server: $schema=../schemas/scenario.schema.json
//
// Run by `npm run build` after tsc. The output is deterministic; the file is
// only rewritten when its content changes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'schemas', 'scenario.schema.json');

let scenarioJsonSchema;
try {
  ({ scenarioJsonSchema } = await import('../dist/scenario/json-schema.js'));
} catch (err) {
  console.error(`emit-schema: cannot load dist/scenario/json-schema.js (run tsc first): ${err.message}`);
  process.exit(1);
}

const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
const previous = await readFile(target, 'utf8').catch(() => undefined);
if (previous === text) {
  console.log(`emit-schema: ${target} is up to date`);
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  console.log(`emit-schema: wrote ${target}`);
}
