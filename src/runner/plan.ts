/**
 * The order of a run, decided before anything starts (pure). Repetitions
 * interleave platforms — A B A B … — or shuffle each round with a recorded
 * seed, so slow drift on the host (thermal, page cache, other load) spreads
 * over every substrate instead of biasing one.
 */
export type PlannedMetric = 'startup' | 'cold_start';

export interface PlanStep {
  metric: PlannedMetric;
  platform: string;
  /** 0-based; warmups come first and are counted. */
  rep: number;
  warmup: boolean;
}

export interface PlanInput {
  platforms: readonly string[];
  metrics: ReadonlyArray<{ metric: PlannedMetric; repetitions: number; warmup: number }>;
  order: 'interleaved' | 'random';
  seed: number;
}

/** mulberry32: a tiny seeded PRNG, enough for shuffling an order reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function buildPlan(input: PlanInput): PlanStep[] {
  const rand = seededRandom(input.seed);
  const steps: PlanStep[] = [];
  for (const m of input.metrics) {
    const rounds = m.warmup + m.repetitions;
    for (let rep = 0; rep < rounds; rep++) {
      const order = input.order === 'random' ? shuffled(input.platforms, rand) : input.platforms;
      for (const platform of order) {
        steps.push({ metric: m.metric, platform, rep, warmup: rep < m.warmup });
      }
    }
  }
  return steps;
}
