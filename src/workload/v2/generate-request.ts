import { BenchError } from '../../errors.js';
import { seededRandom } from '../../stats/random.js';
import type { ModelMetadata, TensorMetadata } from './messages.js';

/**
 * A v2 inference request for a model described by its metadata: every input
 * with its first variable dimension set to the batch size and seeded values
 * of its datatype (floats in [0, 1), small integers, alternating booleans,
 * short strings), so every platform gets the same bytes. Dimensions other
 * than the first cannot be guessed: such a model needs a request body file.
 */
export interface GeneratedRequest {
  body: Buffer;
  /** The request's "id" (a v2 server must echo it). */
  id: string;
  /** The input shapes as sent. */
  shapes: Record<string, number[]>;
}

function shapeOf(t: TensorMetadata, batch: number, model: string): number[] {
  return t.shape.map((d, i) => {
    if (d >= 0) return d;
    if (i === 0) return batch;
    throw new BenchError('input', `model ${model}: input ${t.name} has a variable dimension ${i} (shape [${t.shape.join(', ')}]) that vmbench cannot fill`, {
      hint: 'give the request yourself: workload.request.body (a JSON file)',
    });
  });
}

function values(datatype: string, n: number, rand: () => number): unknown[] {
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (datatype === 'BOOL') out[i] = i % 2 === 0;
    else if (datatype === 'BYTES') out[i] = `vmbench-${i}`;
    else if (datatype.startsWith('FP')) out[i] = Math.fround(rand());
    else out[i] = Math.floor(rand() * 10); // (U)INT*: 0–9 fits every width
  }
  return out;
}

export function generateV2Request(meta: ModelMetadata, o: { batch: number; seed: number; id?: string }): GeneratedRequest {
  const rand = seededRandom(o.seed);
  const id = o.id ?? `vmbench-${o.seed}`;
  const shapes: Record<string, number[]> = {};
  const inputs = meta.inputs.map((t) => {
    const shape = shapeOf(t, o.batch, meta.name);
    shapes[t.name] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    return { name: t.name, shape, datatype: t.datatype, data: values(t.datatype, n, rand) };
  });
  return { body: Buffer.from(JSON.stringify({ id, inputs })), id, shapes };
}
