import type { Described, Interval } from '../stats/describe.js';
import type { Environment } from './environment.js';
import type { FairnessAudit } from './fairness.js';
import type { RunSegment, StepFailure } from './failure.js';
import type { SampleParams } from './sample.js';

export type RunStatus = 'preparing' | 'running' | 'completed' | 'failed' | 'interrupted';

/** The run.json schema this build writes; results/read-run.ts also reads the versions before it. */
export const RUN_SCHEMA_VERSION = 2;

/**
 * One series of a run: a metric at one set of parameters on one platform.
 * `metric` is the series' display name, derived from `base` and `params`
 * (metricLabel: "throughput@c=4"); consumers that need a parameter read
 * `params`, never the name.
 */
export interface MetricSummary {
  metric: string;
  /** The metric without parameters ("throughput"). */
  base: string;
  params?: SampleParams;
  platform: string;
  kind: string;
  unit: string;
  /** n, median, mean, stdev, min, max, p5, p95, bootstrap 95 % CI of the median, outliers. */
  summary: Described | null;
}

export interface RatioRow {
  /** The series' display name, as in MetricSummary. */
  metric: string;
  base: string;
  params?: SampleParams;
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
  schemaVersion: typeof RUN_SCHEMA_VERSION;
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
    /** The GPU artifact's CUDA pieces (device: gpu): what it carries and what was missing. */
    gpu?: { providerLibraries: string[]; fromDriver: string[]; guestDriver: { version: string | null; builtFor: string | null } | null; missing: string[] };
  } | null;
  plan: { order: string; seed: number; pollIntervalMs: number; steps: number; digest?: string };
  /**
   * Where the run's wall time went: the measured windows (each step from its
   * first action to its last sample, launches of timed instances included)
   * against everything else the harness did (build, prepare, stops, cleanup).
   * Absent in records written before schema version 2.
   */
  timing?: RunTiming;
  /**
   * What each platform got (CPUs, memory, threads, network path,
   * accelerator) and every difference, audited once the platforms were
   * prepared; absent in records written before the audit existed.
   */
  fairness?: FairnessAudit;
  /** Proof that every substrate ran the same artifact and computed the same answer. */
  identity: IdentityCheck | null;
  /**
   * The server's protocol check, the run's first step (the Open Inference
   * Protocol REST surface), and the one inference request every measurement
   * sent; absent in records written before it existed.
   */
  server?: ServerCheck;
  /**
   * Isolation facts read from inside one instance of each platform (the
   * isolation measurement); absent when it was not measured.
   */
  isolation?: Record<string, IsolationFacts>;
  /** The harness's own measuring cost on this host (poll round trip, timer lateness). */
  calibration: HostCalibration | null;
  summaries: MetricSummary[];
  /**
   * The platform every ratio is against (report.reference, else the first
   * Docker platform on runc); absent in records written before it was
   * recorded, whose ratios are against the first Docker platform.
   */
  reference?: string | null;
  ratios: RatioRow[];
  warnings: string[];
  error: { kind: string; message: string; category?: string } | null;
  /**
   * Step index → the segment that completed it. A sample counts only when
   * its step was completed by the segment that took it (a step interrupted or
   * failed and then re-run by `--resume` counts once). Absent in records
   * written before resume existed: every sample counts.
   */
  completed?: Record<string, number>;
  /** Steps that failed, in order, with their category; a later segment may have completed the step since. */
  failures?: StepFailure[];
  /** The first invocation and each resume. */
  segments?: RunSegment[];
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

/** One check of a server against the Open Inference Protocol (src/measure/v2-protocol/check.ts). */
export interface ServerProtocolCheck {
  id: string;
  request: string;
  expected: string;
  ok: boolean;
  got: string;
}

export interface ServerCheck {
  /** 'builtin' (vmbench's own server) or the image reference. */
  workload: string;
  protocol: 'v2' | 'none';
  /** false: a server measured without the check (workload.protocol: none); `reason` says so. */
  checked: boolean;
  reason?: string;
  /** The platform whose instance was checked. */
  platform: string | null;
  passed: boolean | null;
  checks: ServerProtocolCheck[];
  modelName: string | null;
  readyPath: string;
  livePath: string;
  /** The run's inference request: where it came from and what it was. */
  request: { method: string; path: string; contentType: string | null; bytes: number; sha256: string; source: 'builtin' | 'file' | 'generated' };
  durationMs: number;
}

export interface RunTiming {
  /** executeRun's start → end, ms. */
  wallMs: number;
  /** Σ of the steps' measured windows, ms. */
  measuredMs: number;
  /** wallMs − measuredMs: the harness's own cost (build, prepare, stops, cleanup), ms. */
  overheadMs: number;
  /** Instances launched (restores included). */
  launches: number;
  /** Measured window per measurement, ms. */
  byMeasurement: Record<string, number>;
}

/** The harness's own measuring cost on this host (see src/measure/calibration.ts). */
export interface HostCalibration {
  pollIntervalMs: number;
  /** One readiness probe against a trivial local server. */
  pollRoundTripMs: { median: number; p99: number; n: number };
  /** setTimeout(pollInterval) fires this much late (median). */
  timerLatenessMs: { median: number; p99: number; n: number };
  /** Worst-case error of a startup figure: interval + lateness + one probe round trip. */
  resolutionMs: number;
}

/**
 * What one instance's workload can see of its isolation, read from inside it
 * (/proc/self/status, /proc/sys/kernel/…, /dev) and compared with the host.
 */
export interface IsolationFacts {
  /** uname -r as the workload sees it, and the host's. */
  kernelRelease: string;
  hostKernelRelease: string;
  /**
   * The workload runs on the host's kernel: /proc/sys/kernel/random/boot_id
   * inside equals the host's (same kernel instance, not just the same version).
   */
  sharedKernel: boolean;
  /** CapEff of the server process (hex) and how many capabilities that is. */
  capEff: string;
  capabilities: number;
  /** Seccomp field of /proc/self/status: 0 disabled, 1 strict, 2 filter. */
  seccomp: 'disabled' | 'strict' | 'filter' | 'unknown';
  /** NoNewPrivs of /proc/self/status. */
  noNewPrivs: boolean;
  /** uid_map of the server process; "0 0 4294967295" is the host's own (no user namespace). */
  uidMap: string;
  userNamespace: boolean;
  /** The uid the server runs as, inside. */
  uid: number;
  /** Device nodes under /dev that reach host hardware (not null/zero/random/urandom/tty/full/pts/shm/fd…). */
  hostDevices: string[];
  /** How the instance was run: OCI runtime (runc, crun, runsc …) or hypervisor, with versions. */
  runtime: string;
  runtimeVersion?: string;
  /** gVisor only: its platform (ptrace, systrap, kvm) and network mode (sandbox netstack or host passthrough). */
  gvisorPlatform?: string;
  network?: string;
}
