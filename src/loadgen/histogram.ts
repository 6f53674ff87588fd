/**
 * Latency histogram: HdrHistogram recording microseconds from 1 µs to 60 s at
 * 3 significant digits (≤ 0.1 % value error), reported in milliseconds.
 *
 * Steps are kept apart (autocannon style): record here, encode to a compressed
 * base64 string that a result file can store, decode + merge later to
 * re-aggregate several runs, then summarise.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { BenchError } from '../errors.js';

export const LOWEST_US = 1;
export const HIGHEST_US = 60_000_000;
export const SIGNIFICANT_DIGITS = 3;

/** Latency summary in milliseconds; all zero when nothing was recorded. */
export interface LatencySummaryMs {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

function fresh(): Histogram {
  return build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

export class LatencyHistogram {
  private readonly h: Histogram;

  constructor(h: Histogram = fresh()) {
    this.h = h;
  }

  /** Records one latency in milliseconds (clamped to 1 µs … 60 s). */
  recordMs(ms: number): void {
    this.recordMicros(ms * 1000);
  }

  recordMicros(us: number): void {
    let v = Math.round(us);
    if (!(v >= LOWEST_US)) v = LOWEST_US; // also NaN
    else if (v > HIGHEST_US) v = HIGHEST_US; // also Infinity
    this.h.recordValue(v);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** A percentile (0–100) in milliseconds; 0 when empty. */
  percentileMs(p: number): number {
    return this.count === 0 ? 0 : this.h.getValueAtPercentile(p) / 1000;
  }

  summaryMs(): LatencySummaryMs {
    if (this.count === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const h = this.h;
    return {
      min: h.minNonZeroValue / 1000,
      mean: h.mean / 1000,
      p50: h.getValueAtPercentile(50) / 1000,
      p90: h.getValueAtPercentile(90) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      p999: h.getValueAtPercentile(99.9) / 1000,
      // Bucket-based like the percentiles (the raw max is lost in encoding), so a decoded copy reports the same.
      max: h.getValueAtPercentile(100) / 1000,
    };
  }

  /** Adds another histogram's counts to this one. */
  merge(other: LatencyHistogram): this {
    this.h.add(other.h);
    return this;
  }

  /** Compressed base64 (HdrHistogram's standard V2 compressed encoding). */
  encode(): string {
    return encodeIntoCompressedBase64(this.h);
  }

  static decode(encoded: string, option = 'histogram'): LatencyHistogram {
    let decoded: Histogram;
    try {
      decoded = decodeFromCompressedBase64(encoded, 32, false);
    } catch (err) {
      throw new BenchError('input', `${option}: not an encoded HdrHistogram (${err instanceof Error ? err.message : String(err)})`, {
        cause: err,
      });
    }
    // Re-home the counts in a histogram with our fixed range so merges line up.
    return new LatencyHistogram().merge(new LatencyHistogram(decoded));
  }
}

/** Decodes and merges several encoded histograms (re-aggregation of stored runs). */
export function mergeEncoded(encoded: readonly string[]): LatencyHistogram {
  const total = new LatencyHistogram();
  encoded.forEach((e, i) => total.merge(LatencyHistogram.decode(e, `histogram[${i}]`)));
  return total;
}
