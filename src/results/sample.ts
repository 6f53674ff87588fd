import type { PlatformKind } from '../platforms/platform.js';

/**
 * One measured value (PerfKit's flat Sample). Every figure carries its unit;
 * warmup samples are journaled too (nothing measured is thrown away) but
 * flagged so statistics leave them out.
 */
export interface Sample {
  metric: string;
  value: number;
  unit: 'ms' | 's' | 'bytes' | 'MiB' | 'req/s' | 'count' | 'ratio';
  platform: string;
  kind: PlatformKind;
  /** Repetition index within the metric (0-based), warmups included. */
  rep: number;
  warmup: boolean;
  /** Wall-clock epoch ms when the sample was taken. */
  timestamp: number;
  metadata: Record<string, string | number | boolean | null>;
}

export type MetricName = 'startup' | 'cold_start' | 'image_size';

export const METRIC_DESCRIPTIONS: Record<MetricName, string> = {
  startup: 'launch call → first HTTP 200 from GET /v2/health/ready',
  cold_start: 'launch call → first successful POST /v2/models/{name}/infer',
  image_size: 'Docker: image size reported by the engine; QEMU: qcow2 size on disk + kernel + initramfs',
};
