/**
 * Do two substrates compute the same thing? ONNX Runtime picks kernels per
 * CPU, so outputs are compared with a tolerance, not bitwise: every batch
 * row's top-5 classes must be equal (same order) and the largest absolute
 * difference must be ≤ the tolerance. Pure.
 */
export const OUTPUT_TOLERANCE = 1e-4;

export interface InferenceOutput {
  shape: number[];
  data: number[];
}

export interface Agreement {
  agree: boolean;
  maxAbsDiff: number;
  top5Equal: boolean;
  detail: string;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => (values[b]! - values[a]!) || a - b);
  return idx.slice(0, k);
}

/** Splits [N, …] data into N rows. */
function rows(out: InferenceOutput): number[][] {
  const n = out.shape[0] ?? 1;
  const width = out.data.length / n;
  return Array.from({ length: n }, (_, i) => out.data.slice(i * width, (i + 1) * width));
}

export function compareOutputs(a: InferenceOutput, b: InferenceOutput, tolerance = OUTPUT_TOLERANCE): Agreement {
  if (a.shape.join('x') !== b.shape.join('x') || a.data.length !== b.data.length) {
    return { agree: false, maxAbsDiff: Infinity, top5Equal: false, detail: `shapes differ: [${a.shape}] vs [${b.shape}]` };
  }
  let maxAbsDiff = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
  }
  const ra = rows(a);
  const rb = rows(b);
  let top5Equal = true;
  let detail = '';
  for (let r = 0; r < ra.length; r++) {
    const ta = topK(ra[r]!, 5);
    const tb = topK(rb[r]!, 5);
    if (ta.join(',') !== tb.join(',')) {
      top5Equal = false;
      detail = `row ${r}: top-5 [${ta}] vs [${tb}]`;
      break;
    }
  }
  const agree = top5Equal && maxAbsDiff <= tolerance;
  if (!detail) detail = `top-5 equal, max |Δ| = ${maxAbsDiff.toExponential(2)} (tolerance ${tolerance})`;
  return { agree, maxAbsDiff, top5Equal, detail };
}
