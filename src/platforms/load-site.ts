import type { ClosedLoopOptions, LoadResult, MaxRateOptions, MaxRateResult, OpenLoopOptions } from '../loadgen/index.js';

/**
 * Where an instance's readiness polling and load come from. By default the
 * controller itself (this process, src/measure/load-site.ts); an instance on
 * a remote host hands out the helper running on that host
 * (remote/agent/client.ts), so the network between controller and host never
 * enters a latency. Every time handed back is on the CONTROLLER's monotonic
 * clock (performance.now()), mapped where it was taken elsewhere, with the
 * mapping's uncertainty. Traffic only ever goes to 127.0.0.1 of the site's
 * own host.
 */

export interface SiteRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  connectTimeoutMs?: number;
}

export interface SiteResponse {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export interface SitePollOptions {
  intervalMs: number;
  /** performance.now() deadline on the controller's clock. */
  deadline: number;
  signal?: AbortSignal;
  /** Called between attempts where the loop runs here (the controller); throw to stop early. */
  check?: () => void;
}

export interface SitePollResult {
  /** Controller performance.now() when the accepted answer arrived. */
  at: number;
  attempts: number;
  response: SiteResponse;
  /** ± ms of `at` when it was measured on another clock and mapped (absent: measured here). */
  clockUncertaintyMs?: number;
}

export interface LoadSite {
  /** What samples record as where the load ran: "controller" or "host <name>". */
  readonly where: string;
  probe(req: SiteRequest): Promise<SiteResponse>;
  /** Repeat `req` until it answers 200; rejects with PollTimeout-like error at the deadline. */
  pollUntilOk(req: SiteRequest, o: SitePollOptions): Promise<SitePollResult>;
  closedLoop(o: ClosedLoopOptions): Promise<LoadResult>;
  openLoop(o: OpenLoopOptions): Promise<LoadResult>;
  maxRate(o: MaxRateOptions): Promise<MaxRateResult>;
  /** CPUs of the site's host (for pinning the generator away from the instance). */
  hostCpus(): Promise<number>;
  /** Restrict the generator to these CPUs of its host (taskset list syntax). */
  pinGenerator(cpus: string): Promise<void>;
}
