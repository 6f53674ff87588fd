import { seededRandom } from '../../src/stats/random.js';

/** n deterministic draws from Normal(mean, sd) (Box–Muller on the seeded PRNG). */
export function normalSample(n: number, mean: number, sd: number, seed: number): number[] {
  const rand = seededRandom(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u1 = 1 - rand(); // (0, 1]
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    out.push(mean + sd * r * Math.cos(2 * Math.PI * u2));
    if (out.length < n) out.push(mean + sd * r * Math.sin(2 * Math.PI * u2));
  }
  return out;
}
