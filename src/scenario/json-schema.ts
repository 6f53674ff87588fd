/**
 * The JSON schema of scenario files, generated from the zod schema so the two
 * never drift. It describes the input side (what people write): durations and
 * sizes are strings with a `pattern`, defaults are shown as written. The
 * cross-field rules (unique platform names, rates in open mode) are not
 * expressible here; the loader checks them. scripts/emit-schema.mjs writes it
 * to schemas/scenario.schema.json, which scenario files reference for editors:
 *
 *   # yaml-language-server: $schema=../schemas/scenario.schema.json
 */
import { z } from 'zod';
import { scenarioSchema } from './schema.js';

export function scenarioJsonSchema(): Record<string, unknown> {
  // draft-07: the draft yaml-language-server and most editors understand best.
  return z.toJSONSchema(scenarioSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'throw',
    override: ({ jsonSchema }) => {
      // z.number().int() adds the safe-integer range; it says nothing to a reader.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  }) as Record<string, unknown>;
}
