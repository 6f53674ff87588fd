/** Progress events of the artifact build; the caller decides how to show them. */
export interface BuildProgressEvent {
  step: string;
  status: 'start' | 'done' | 'cached';
  detail?: string;
  /** Duration of the step (on 'done'). */
  ms?: number;
}

export type ProgressFn = (ev: BuildProgressEvent) => void;

/** Reports start/done around `fn`, with the elapsed milliseconds. */
export async function timedStep<T>(
  onProgress: ProgressFn | undefined,
  step: string,
  detail: string | undefined,
  fn: () => Promise<T>,
  doneDetail?: (result: T) => string | undefined,
): Promise<T> {
  onProgress?.({ step, status: 'start', ...(detail === undefined ? {} : { detail }) });
  const t0 = performance.now();
  const result = await fn();
  const d = doneDetail ? doneDetail(result) : detail;
  onProgress?.({ step, status: 'done', ms: Math.round(performance.now() - t0), ...(d === undefined ? {} : { detail: d }) });
  return result;
}

export function cachedStep(onProgress: ProgressFn | undefined, step: string, detail?: string): void {
  onProgress?.({ step, status: 'cached', ...(detail === undefined ? {} : { detail }) });
}
