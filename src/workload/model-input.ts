import { BenchError } from '../errors.js';
import { ensureModel } from './model/model-cache.js';

/**
 * Number of float32 elements in one request's input: the model's first input
 * shape with its batch (first) dimension set to `batch`. Read from the model
 * itself, never assumed; other dynamic dimensions cannot be guessed.
 */
export async function modelInputElements(model: string, seed: number, cacheDir: string, batch: number): Promise<number> {
  const resolved = await ensureModel(model, cacheDir, { seed });
  const input = resolved.io.inputs[0];
  if (!input?.shape) throw new BenchError('input', `model ${resolved.name}: its first input has no declared shape`);
  if (input.dtype !== 'float32') {
    throw new BenchError('input', `model ${resolved.name}: input ${input.name} is ${input.dtype}; only float32 inputs are supported`);
  }
  return input.shape.reduce<number>((n, dim, i) => {
    if (i === 0) return n * batch;
    if (typeof dim !== 'number') {
      throw new BenchError('input', `model ${resolved.name}: input ${input.name} has a dynamic dimension ${i} (${String(dim)}) that vmbench cannot fill`);
    }
    return n * dim;
  }, 1);
}
