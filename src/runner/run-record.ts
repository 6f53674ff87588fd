import type { Environment } from '../results/environment.js';
import type { HostCalibration } from '../measure/calibration.js';
import type { Described, Interval } from '../stats/describe.js';

export type RunStatus = 'preparing' | 'running' | 'completed' | 'failed' | 'interrupted';

export interface MetricSummary {
  metric: string;
  platform: string;
  kind: string;
  unit: string;
  /** n, median, mean, stdev, min, max, p5, p95, bootstrap 95 % CI of the median, outliers. */
  summary: Described | null;
}

export interface RatioRow {
  metric: string;
  numerator: string;
  denominator: string;
  /** median(numerator) ÷ median(denominator). */
  ratio: number | null;
  /** Bootstrap 95 % CI of that ratio (null when a group has n < 2). */
  ratioCI: Interval | null;
  /** Two-sided p-value of the test below; null when undefined. */
  p: number | null;
  test: string | null;
  /** Effect size in [-1, 1]: positive means the numerator's values tend to be larger. */
  cliffsDelta: number | null;
  /** p < 0.05. */
  significant: boolean;
}

/** run.json: everything needed to re-render or compare a run later, samples aside. */
export interface RunRecord {
  schemaVersion: 1;
  runId: string;
  status: RunStatus;
  scenarioFile: string;
  scenario: unknown;
  startedAt: string;
  finishedAt: string | null;
  environment: Environment;
  artifact: {
    id: string;
    rootfsDigest: string;
    dockerImage: string;
    dockerImageBytes: number | null;
    vmDiskBytes: number;
    kernelBytes: number;
    initrdBytes: number;
    kernelVersion: string;
    model: { name: string; source: string; sha256: string; bytes: number };
  } | null;
  plan: { order: string; seed: number; pollIntervalMs: number; steps: number };
  /** Proof that every substrate ran the same artifact and computed the same answer. */
  identity: IdentityCheck | null;
  /** The harness's own measuring cost on this host (poll round trip, timer lateness). */
  calibration: HostCalibration | null;
  summaries: MetricSummary[];
  ratios: RatioRow[];
  warnings: string[];
  error: { kind: string; message: string } | null;
}

export interface IdentityCheck {
  /** Platform whose output the others are compared with. */
  reference: string;
  tolerance: number;
  agreed: boolean;
  platforms: Array<{
    platform: string;
    /** Read by the server from /etc/vmbench/rootfs.sha256 inside the running instance. */
    rootfsDigestInside: string | null;
    outputShape: number[];
    /** Top-5 class indices of each batch row. */
    top5: number[][];
    maxAbsDiff: number;
    agree: boolean;
    detail: string;
  }>;
}
