import os from 'node:os';
import { findMaxSustainableRate, runClosedLoop, runOpenLoop } from '../loadgen/index.js';
import { pinProcess } from '../platforms/host/pin.js';
import type { LoadSite } from '../platforms/load-site.js';
import type { Instance } from '../platforms/platform.js';
import { pollUntil, probe } from '../loadgen/probe.js';

/**
 * The controller as a load site: readiness polls, probes and load from this
 * process, to 127.0.0.1 here. Instances on another host carry their own site
 * (the helper on that host); siteOf() picks the right one, so a measurement
 * never cares where it runs.
 */
export const controllerSite: LoadSite = {
  where: 'controller',
  probe: (req) => probe(req),
  pollUntilOk: (req, o) => pollUntil(() => probe({ ...req, timeoutMs: attemptTimeoutMs(req, o.deadline) }), (r) => r.status === 200, o),
  closedLoop: (o) => runClosedLoop(o),
  openLoop: (o) => runOpenLoop(o),
  maxRate: (o) => findMaxSustainableRate(o),
  hostCpus: async () => os.cpus().length,
  pinGenerator: (cpus) => pinProcess(process.pid, cpus),
};

/**
 * A POST that reached the model may take what is left of the deadline
 * (abandoning it leaves the inference running in the server: see
 * startup.ts); a GET keeps its own short timeout.
 */
export function attemptTimeoutMs(req: { method?: string; timeoutMs: number; connectTimeoutMs?: number }, deadline: number): number {
  return req.method === 'POST' ? Math.max(req.connectTimeoutMs ?? req.timeoutMs, deadline - performance.now()) : req.timeoutMs;
}

export function siteOf(instance: Pick<Instance, 'loadSite'>): LoadSite {
  return instance.loadSite ?? controllerSite;
}
