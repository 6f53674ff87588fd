export { LatencyHistogram, mergeEncoded, type LatencySummaryMs } from './histogram.js';
export { resolveTarget, type Target, type TargetSpec, type HttpMethod } from './target.js';
export { runClosedLoop, type ClosedLoopOptions } from './closed-loop.js';
export { runOpenLoop, DEFAULT_MAX_CONNECTIONS, type OpenLoopOptions } from './open-loop.js';
export { errorRate, totalErrors, type LoadResult, type LoadgenCpu, type StopReason } from './result.js';
export { findMaxSustainableRate, judgeStep, requireRate, type MaxRateOptions, type MaxRateResult, type RateStep } from './max-rate.js';
export { mergeLoadResults } from './aggregate.js';
export { renderLoadResult } from './render.js';
