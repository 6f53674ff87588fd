import type { Environment } from '../results/environment.js';
import type { Summary } from '../stats/summary.js';

export type RunStatus = 'preparing' | 'running' | 'completed' | 'failed' | 'interrupted';

export interface MetricSummary {
  metric: string;
  platform: string;
  kind: string;
  unit: string;
  summary: Summary | null;
}

export interface RatioRow {
  metric: string;
  numerator: string;
  denominator: string;
  /** median(numerator) ÷ median(denominator). */
  ratio: number | null;
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
