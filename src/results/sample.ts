import type { PlatformKind } from '../scenario/schema.js';

/** A parameter of a measurement (connections, rate, instances, memory phase, SLO). */
export type SampleParamValue = string | number;
export type SampleParams = Record<string, SampleParamValue>;

/**
 * One measured value (PerfKit's flat Sample). Every figure carries its unit;
 * warmup samples are journaled too (nothing measured is thrown away) but
 * flagged so statistics leave them out. The parameters a value was measured
 * at are data (`params`), never part of the metric name; the display name
 * (`throughput@c=4`) is derived from both by metricLabel().
 */
export interface Sample {
  /** The metric itself, without parameters: 'startup', 'throughput', 'memory_host', … */
  metric: string;
  /** The parameters it was measured at, e.g. { connections: 4 }; absent when it has none. */
  params?: SampleParams;
  value: number;
  unit: 'ms' | 's' | 'us' | 'bytes' | 'MiB' | 'req/s' | 'inferences/s' | 'count' | 'ratio' | '%';
  platform: string;
  kind: PlatformKind;
  /** Repetition index within the metric (0-based), warmups included. */
  rep: number;
  warmup: boolean;
  /** Wall-clock epoch ms when the sample was taken. */
  timestamp: number;
  /** The plan step that took it and the run segment it ran in (absent in runs recorded before resume). */
  step?: number;
  segment?: number;
  metadata: Record<string, string | number | boolean | null>;
}

/**
 * How each known parameter shows in a display name, in this order; any other
 * parameter shows as key=value after them.
 */
const PARAM_LABELS: ReadonlyArray<[key: string, show: (v: SampleParamValue) => string]> = [
  ['phase', (v) => String(v)],
  ['connections', (v) => `c=${v}`],
  ['rate', (v) => `r=${v}`],
  ['instances', (v) => `n=${v}`],
  ['neighbors', (v) => `k=${v}`],
  ['call', (v) => String(v)],
  ['slo_p99_ms', (v) => `p99<=${v}ms`],
  ['batch', (v) => `b=${v}`],
];
const KNOWN_PARAMS = new Set(PARAM_LABELS.map(([k]) => k));

/** How parameters read in a display name: {connections: 4} → "c=4"; "" for none. */
export function paramsLabel(params?: SampleParams): string {
  if (!params) return '';
  const parts: string[] = [];
  for (const [key, show] of PARAM_LABELS) if (params[key] !== undefined) parts.push(show(params[key]));
  for (const key of Object.keys(params).sort()) if (!KNOWN_PARAMS.has(key)) parts.push(`${key}=${params[key]}`);
  return parts.join(',');
}

/** The display name of a metric at some parameters: "throughput" + {connections: 4} → "throughput@c=4". */
export function metricLabel(metric: string, params?: SampleParams): string {
  const suffix = paramsLabel(params);
  return suffix ? `${metric}@${suffix}` : metric;
}

/** A sample's display (and series) name. */
export function sampleLabel(s: Pick<Sample, 'metric' | 'params'>): string {
  return metricLabel(s.metric, s.params);
}

export type MetricName =
  | 'startup'
  | 'cold_start'
  | 'image_size'
  | 'memory_host'
  | 'memory_workload_pss'
  | 'memory_workload_rss'
  | 'memory_overhead'
  | 'memory_overhead_pct'
  | 'memory_page_cache'
  | 'network_rtt_p50'
  | 'network_rtt_p99'
  | 'density_max_instances'
  | 'density_marginal_memory'
  | 'harness_exec_rtt'
  | 'snapshot_restore'
  | 'snapshot_fresh'
  | 'snapshot_take'
  | 'snapshot_size'
  | 'snapshot_restored_memory'
  | 'syscall'
  | 'isolation_capabilities'
  | 'neighbor_p50'
  | 'neighbor_p99'
  | 'neighbor_throughput'
  | 'cold_start_cuda_context'
  | 'cold_start_model_upload'
  | 'cold_start_first_inference'
  | 'gpu_memory_idle'
  | 'gpu_memory_used'
  | 'gpu_utilization'
  | 'batch_latency_p50'
  | 'batch_latency_p99'
  | 'batch_throughput';

export const METRIC_DESCRIPTIONS: Record<MetricName, string> = {
  startup: 'launch call → first HTTP 200 from GET /v2/health/ready',
  cold_start: 'launch call → first successful POST /v2/models/{name}/infer',
  image_size: 'Docker: image size reported by the engine; QEMU: qcow2 size on disk + kernel + initramfs',
  memory_host:
    'host memory attributable to one ready instance: container = cgroup anon + kernel + shmem + PSS of mapped files + containerd-shim (+ docker-proxy) PSS; VM = PSS of the QEMU process',
  memory_workload_pss: 'PSS of the server process as seen inside the instance (smaps_rollup)',
  memory_workload_rss: 'RSS of the server process as seen inside the instance',
  memory_overhead: 'memory_host − memory_workload_pss',
  memory_overhead_pct: 'memory_overhead as a percentage of memory_workload_pss',
  memory_page_cache: 'page cache charged to the container cgroup (not counted as overhead)',
  network_rtt_p50: 'median round trip of GET /v2/health/live, sequential on one keep-alive connection (no inference)',
  network_rtt_p99: '99th percentile of that round trip',
  density_max_instances:
    'most instances running at once within the memory budget, every one ready and the merged probe p99 within the SLO',
  density_marginal_memory: 'least-squares slope of host memory vs instance count (MiB per extra instance)',
  harness_exec_rtt: "the harness's own cost of running `true` inside the instance (docker exec; SSH into a VM)",
  snapshot_restore: 'restore call → first successful inference of an instance restored from a snapshot of a ready one',
  snapshot_fresh: 'fresh launch → first successful inference of the instance that was snapshotted',
  snapshot_take: 'time to take the snapshot (QEMU: stop + migrate to a file; Docker: docker commit)',
  snapshot_size: 'size of the snapshot on disk (QEMU: memory image + overlay; Docker: the committed layer)',
  snapshot_restored_memory: 'host memory attributable to the restored instance (as memory_host)',
  syscall: 'µs per system call (params.call: getuid, stat), timed in-process by the workload inside the instance: the cost of the isolation boundary',
  isolation_capabilities: 'effective capabilities of the server process inside the instance (count); every other isolation fact is in the metadata',
  neighbor_p50: 'median latency of a victim instance at a fixed open-loop rate with params.neighbors instances of the same substrate saturating their CPU beside it (0 = alone)',
  neighbor_p99: '99th percentile of that latency',
  neighbor_throughput: "the victim's successful requests per second in that window",
  cold_start_cuda_context: "device gpu: the server's one-node CUDA session created and run once — CUDA provider and libraries loaded, CUDA context created (server clock, at the instance start)",
  cold_start_model_upload: "device gpu: the model's CUDA session created — graph read and optimised, weights uploaded to GPU memory",
  cold_start_first_inference: 'device gpu: the warm-up inference, the first on that session',
  gpu_memory_idle: 'GPU memory the ready instance holds before load (container: its processes in nvidia-smi --query-compute-apps; VM: memory.used of its passed-through GPUs)',
  gpu_memory_used: 'the most GPU memory the instance held while serving params.batch-input requests',
  gpu_utilization: "mean utilization.gpu of the instance's GPU(s) while serving params.batch-input requests (per GPU: on a shared GPU it is everyone's)",
  batch_latency_p50: 'median latency of sequential requests of params.batch inputs on one keep-alive connection',
  batch_latency_p99: '99th percentile of that latency',
  batch_throughput: 'inputs inferred per second at params.batch inputs per request (batch × requests/s), one connection',
};
