import type { InstanceUse, MeasurementName } from '../measure/measurement.js';
import { seededRandom, shuffled } from '../stats/random.js';

/**
 * The order of a run, decided before anything starts (pure). Every
 * measurement is planned the same way: its rounds (warm-ups first) in turn,
 * and within a round the platforms interleaved — A B A B … — or shuffled
 * with the recorded seed, so slow drift on the host (thermal, page cache,
 * other load) spreads over every substrate instead of biasing one.
 *
 * No launch without a measurement: a step that only needs a ready instance
 * (calibration, memory, network, throughput) rides on the instance of its
 * platform's last startup step (else its last cold start), and a snapshot
 * rides on its platform's last cold start (an instance that has answered);
 * a rider runs right after the step it rides on, before that instance is
 * stopped, which changes nothing a metric means: each still measures a
 * ready instance, a fresh launch is still fresh. Where there is nothing to
 * ride on, the first such step of a platform launches the instance and the
 * platform's other such steps ride on it. The identity proof (same rootfs,
 * same output on every substrate) is taken on the first instance whose
 * rootfs digest is checked in each platform's first cold start, else in its
 * first step that has an instance (density: its first instance).
 */

export interface PlannedMeasurement {
  name: MeasurementName;
  uses: InstanceUse;
  leaves?: 'ready' | 'answered';
  /** Rounds per platform, warm-ups included, and how many of them are warm-ups. */
  rounds: number;
  warmup: number;
  /** The platforms that take part, in scenario order. */
  platforms: readonly string[];
}

export interface PlanInput {
  measurements: readonly PlannedMeasurement[];
  order: 'interleaved' | 'random';
  seed: number;
}

export interface PlanStep {
  /** Position in the plan (execution order). */
  index: number;
  measurement: MeasurementName;
  platform: string;
  /** 0-based round; warm-ups come first and are counted. */
  rep: number;
  warmup: boolean;
  /** The index of the step whose instance this one uses; absent: it launches its own when it needs one. */
  rides?: number;
  /** The identity proof is taken on this step's instance, right after it. */
  identity?: boolean;
}

interface Draft {
  m: PlannedMeasurement;
  platform: string;
  rep: number;
  host?: Draft;
  identity?: boolean;
}

export function buildPlan(input: PlanInput): PlanStep[] {
  const rand = seededRandom(input.seed);
  const base: Draft[] = [];
  for (const m of input.measurements) {
    for (let rep = 0; rep < m.rounds; rep++) {
      const order = input.order === 'random' ? shuffled(m.platforms, rand) : m.platforms;
      for (const platform of order) base.push({ m, platform, rep });
    }
  }
  const byPlatform = groupBy(base, (d) => d.platform);
  for (const steps of byPlatform.values()) assignHosts(steps);

  // Riders follow their host, in measurement order.
  const riders = groupBy(base.filter((d) => d.host), (d) => d.host!);
  const ordered: Draft[] = [];
  for (const d of base) {
    if (d.host) continue;
    ordered.push(d, ...(riders.get(d) ?? []));
  }
  for (const steps of groupBy(ordered, (d) => d.platform).values()) markIdentity(steps);
  const index = new Map(ordered.map((d, i) => [d, i]));
  return ordered.map((d, i) => {
    const step: PlanStep = { index: i, measurement: d.m.name, platform: d.platform, rep: d.rep, warmup: d.rep < d.m.warmup };
    if (d.host) step.rides = index.get(d.host)!;
    if (d.identity) step.identity = true;
    return step;
  });
}

function groupBy<K, T>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/** One platform's steps: which ride on which. */
function assignHosts(steps: Draft[]): void {
  const last = (pred: (d: Draft) => boolean) => steps.filter(pred).at(-1);
  const answered = last((d) => d.m.uses === 'fresh' && d.m.leaves === 'answered');
  const ready = last((d) => d.m.uses === 'fresh' && d.m.leaves === 'ready') ?? answered;
  const needReady = steps.filter((d) => d.m.uses === 'ready');
  const readyHost = ready ?? needReady[0];
  for (const d of needReady) if (d !== readyHost) d.host = readyHost;
  if (answered) for (const d of steps) if (d.m.uses === 'answered') d.host = answered;
}

/** The first step that leaves an answered instance, else the first that has any instance. */
function markIdentity(steps: Draft[]): void {
  const carrier = steps.find((d) => d.m.leaves === 'answered') ?? steps.find((d) => d.m.uses !== 'none');
  if (carrier) carrier.identity = true;
}
