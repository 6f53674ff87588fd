/**
 * Replays the gate on stored runs (the replay half of bench/gate-power.ts). Pure:
 * runs in, rates out; every draw is seeded.
 *
 * From A/A runs (identical scenario) and injected runs (the same scenario with
 * the container's CPU quota cut), for each design "K_b baseline runs vs K_c
 * current runs" (optionally one baseline run + a noise profile of K_n other
 * runs, the single-run fallback):
 *  - false alarms: disjoint subsets of the A/A runs as baseline and current →
 *    `compareRuns` → does the gate fail (any gated metric)?
 *  - synthetic injection: the same subsets, the current runs' values of the
 *    metric × (1 + δ) for δ = 5 %, 10 %, 20 % … — an exactly known change on
 *    top of this host's real noise → does the gate fail naming the metric?
 *  - real injection: A/A subsets as baseline, subsets of one quota level's
 *    runs as current; the change a quota really caused is measured as the
 *    ratio of the geometric means of the run medians (quota runs vs A/A runs).
 * All subsets are drawn from the same few runs, so the comparisons overlap:
 * the figures rest on the runs, not on the (much larger) comparison count.
 */
import { compareRuns, type CompareOptions } from '../src/gate/compare.js';
import { computeNoise, type RunSamples } from '../src/gate/noise.js';
import { metricDirection } from '../src/gate/thresholds.js';
import { sampleLabel } from '../src/results/sample.js';
import { seededRandom, shuffled } from '../src/stats/random.js';

export interface InjectedGroup {
  /** "cpus 1.5" */
  label: string;
  cpus: number;
  /** The change the quota was chosen for (fraction), if any. */
  intended: number | null;
  runs: RunSamples[];
}

export interface ReplayInput {
  aa: RunSamples[];
  injected: InjectedGroup[];
}

export interface ReplayDesign {
  baselineRuns: number;
  currentRuns: number;
  /** > 0: one baseline run plus a noise profile computed from this many other A/A runs. */
  noiseRuns: number;
}

export interface Rate {
  hits: number;
  trials: number;
}

export interface DesignResult {
  design: ReplayDesign;
  /** The metric's threshold used (fraction). */
  threshold: number;
  falseAlarms: Rate;
  synthetic: Array<{ change: number; detected: Rate }>;
  injected: Array<{ label: string; measuredChange: number | null; detected: Rate }>;
  /** Non-overlapping A/A comparisons the runs allow, ⌊A/A runs ÷ runs per comparison⌋: the figures' effective sample size is between this and the comparison count. */
  disjoint: number;
  /** Smallest synthetic change caught in ≥ 80 % of the comparisons (from `fineChanges`); null if none. */
  smallestAt80: number | null;
  /** Median MDC the gate itself stated in the A/A comparisons. */
  medianMdc: number | null;
}

export interface ReplayOptions {
  metric: string;
  /** Gate settings (alpha, correction, scenario thresholds); the metric's threshold is set per `thresholds`. */
  gate: Pick<CompareOptions, 'alpha' | 'correction' | 'scenarioThresholds' | 'power' | 'target'>;
  designs: readonly ReplayDesign[];
  /** Thresholds (fractions) for the metric to evaluate each design at. */
  thresholds: readonly number[];
  syntheticChanges: readonly number[];
  /** A finer grid for `smallestAt80`. */
  fineChanges: readonly number[];
  /** Most comparisons per figure (subsets are sampled beyond it). */
  maxComparisons: number;
  seed: number;
  /** Called after each design × threshold. */
  onProgress?: (done: number, total: number) => void;
}

export function designLabel(d: ReplayDesign): string {
  if (d.noiseRuns > 0) return `1 run + noise(${d.noiseRuns}) vs ${d.currentRuns}`;
  return `${d.baselineRuns} vs ${d.currentRuns}`;
}

/** How many runs a design draws from the A/A runs. */
export function runsNeeded(d: ReplayDesign): number {
  return d.baselineRuns + d.currentRuns + d.noiseRuns;
}

/** The median of `metric` per run (runs without it left out). */
export function runMedians(runs: readonly RunSamples[], metric: string): number[] {
  const out: number[] = [];
  for (const r of runs) {
    const values = r.samples.filter((s) => !s.warmup && sampleLabel(s) === metric).map((s) => s.value).sort((a, b) => a - b);
    if (values.length === 0) continue;
    const mid = values.length >> 1;
    out.push(values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2);
  }
  return out;
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** Change of the metric in `runs` against the A/A runs: ratio of the geometric means of the run medians − 1. */
export function measuredChange(aa: readonly RunSamples[], runs: readonly RunSamples[], metric: string): number | null {
  const a = runMedians(aa, metric);
  const b = runMedians(runs, metric);
  return a.length === 0 || b.length === 0 ? null : geomean(b) / geomean(a) - 1;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** k-subsets of [0, n) in lexicographic order. */
function* subsets(n: number, k: number, from = 0): Generator<number[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= n - k; i++) for (const rest of subsets(n, k - 1, i + 1)) yield [i, ...rest];
}

/**
 * Disjoint index groups of the given sizes from n items: all of them when
 * there are at most `max` (in a fixed order), else `max` seeded random draws.
 */
export function draws(n: number, sizes: readonly number[], max: number, rand: () => number): number[][][] {
  const total = sizes.reduce((acc, k, i) => acc * binomial(n - sizes.slice(0, i).reduce((a, b) => a + b, 0), k), 1);
  if (total <= max) {
    const out: number[][][] = [];
    const rec = (left: number[], i: number, acc: number[][]) => {
      if (i === sizes.length) {
        out.push(acc);
        return;
      }
      for (const pick of subsets(left.length, sizes[i]!)) {
        const chosen = pick.map((j) => left[j]!);
        rec(left.filter((_, j) => !pick.includes(j)), i + 1, [...acc, chosen]);
      }
    };
    rec([...Array(n).keys()], 0, []);
    return out;
  }
  return Array.from({ length: max }, () => {
    const order = shuffled([...Array(n).keys()], rand);
    let at = 0;
    return sizes.map((k) => order.slice(at, (at += k)));
  });
}

/** The current runs with `metric` × (1 + change) in its bad direction. */
function inject(runs: readonly RunSamples[], metric: string, change: number): RunSamples[] {
  return runs.map((r) => ({
    runId: r.runId,
    samples: r.samples.map((s) => {
      if (sampleLabel(s) !== metric) return s;
      const factor = metricDirection(s.metric) === 'lower' ? 1 + change : 1 - change;
      return { ...s, value: s.value * factor };
    }),
  }));
}

export function replay(input: ReplayInput, o: ReplayOptions): DesignResult[] {
  const results: DesignResult[] = [];
  const total = o.designs.length * o.thresholds.length;
  for (const design of o.designs) {
    for (const threshold of o.thresholds) {
      const rand = seededRandom(o.seed);
      const opts: CompareOptions = { ...o.gate, cliThresholds: { [o.metric]: threshold }, iterations: 200 };
      const gateFails = (base: RunSamples[], cur: RunSamples[], noiseFrom: RunSamples[], metricOnly: boolean, mdcs?: number[]) => {
        const noise = noiseFrom.length >= 2 ? computeNoise(noiseFrom) : undefined;
        const c = compareRuns(base, cur, { ...opts, noise, sensitivity: mdcs !== undefined });
        const row = c.rows.find((r) => r.metric === o.metric);
        if (mdcs && row?.sensitivity) mdcs.push(row.sensitivity.mdc);
        return metricOnly ? c.regressions.some((r) => r.metric === o.metric) : c.regressions.length > 0;
      };
      const sizes = [design.noiseRuns > 0 ? 1 : design.baselineRuns, design.currentRuns, design.noiseRuns];
      const aaDraws = runsNeeded(design) <= input.aa.length ? draws(input.aa.length, sizes, o.maxComparisons, rand) : [];
      const pick = (idx: number[]) => idx.map((i) => input.aa[i]!);
      const mdcs: number[] = [];
      const falseAlarms: Rate = { hits: 0, trials: aaDraws.length };
      for (const [b, c, n] of aaDraws) if (gateFails(pick(b!), pick(c!), pick(n!), false, mdcs)) falseAlarms.hits++;
      const detect = (change: number): Rate => {
        const rate: Rate = { hits: 0, trials: aaDraws.length };
        for (const [b, c, n] of aaDraws) if (gateFails(pick(b!), inject(pick(c!), o.metric, change), pick(n!), true)) rate.hits++;
        return rate;
      };
      const synthetic = o.syntheticChanges.map((change) => ({ change, detected: detect(change) }));
      const fine = o.fineChanges.map((change) => ({ change, rate: detect(change) }));
      const at80 = fine.find((f) => f.rate.trials > 0 && f.rate.hits / f.rate.trials >= 0.8);
      const injected = input.injected.map((g) => {
        const detected: Rate = { hits: 0, trials: 0 };
        if (g.runs.length >= design.currentRuns && runsNeeded({ ...design, currentRuns: 0 }) <= input.aa.length) {
          const baseSizes = [sizes[0]!, sizes[2]!];
          const bases = draws(input.aa.length, baseSizes, o.maxComparisons, rand);
          const curs = draws(g.runs.length, [design.currentRuns], o.maxComparisons, rand);
          const all = bases.length * curs.length <= o.maxComparisons;
          const pairs = all ? bases.length * curs.length : o.maxComparisons;
          for (let i = 0; i < pairs; i++) {
            // Every pair of a baseline draw and a current draw, or seeded random pairs when there are too many.
            const [b, n] = bases[all ? i % bases.length : Math.floor(rand() * bases.length)]!;
            const [c] = curs[all ? Math.floor(i / bases.length) : Math.floor(rand() * curs.length)]!;
            detected.trials++;
            if (gateFails(pick(b!), c!.map((j) => g.runs[j]!), pick(n!), true)) detected.hits++;
          }
        }
        return { label: g.label, measuredChange: measuredChange(input.aa, g.runs, o.metric), detected };
      });
      const sorted = [...mdcs].sort((a, b) => a - b);
      results.push({
        design,
        threshold,
        falseAlarms,
        disjoint: Math.floor(input.aa.length / runsNeeded(design)),
        synthetic,
        injected,
        smallestAt80: at80 ? at80.change : null,
        medianMdc: sorted.length ? sorted[sorted.length >> 1]! : null,
      });
      o.onProgress?.(results.length, total);
    }
  }
  return results;
}
