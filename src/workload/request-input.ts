import { seededRandom } from '../stats/random.js';

/**
 * The run's fixed inference input: float32 values in [0, 1) from a seeded
 * PRNG, little-endian, exactly as the server's raw octet-stream path expects.
 * The same bytes go to every platform.
 */
export function fixedInput(elements: number, seed: number): Buffer {
  const rand = seededRandom(seed);
  const buf = Buffer.alloc(elements * 4);
  for (let i = 0; i < elements; i++) buf.writeFloatLE(rand(), i * 4);
  return buf;
}
