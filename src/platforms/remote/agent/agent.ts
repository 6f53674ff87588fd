/**
 * The host helper: a small Node process vmbench starts over SSH on a target
 * host (shipped there with the artifact, see bundle.ts), so that readiness
 * polling and load generation run next to the instance — the controller's
 * network never enters a latency — and so that host-side readings (/proc,
 * /sys) are the target host's. It speaks protocol.ts on stdin/stdout and
 * exits as soon as stdin closes: when the controller ends the channel, or
 * the SSH connection dies, nothing of it stays behind.
 *
 * It sends traffic to 127.0.0.1 only (loadgen's target check; probe's).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { findMaxSustainableRate, runClosedLoop, runOpenLoop, type TargetSpec } from '../../../loadgen/index.js';
import { pollUntil, PollTimeout, probe, type ProbeRequest, type ProbeResponse } from '../../../loadgen/probe.js';
import { pickFreePort } from '../../host/ports.js';
import { AGENT_PROTOCOL, type AgentFacts, type AgentReply, type AgentRequest, type HttpReply, type HttpRequestSpec, type PollReply, type WireTarget } from './protocol.js';

const inflight = new Map<number, AbortController>();

function send(reply: AgentReply): void {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

/** A request off the wire (body in base64) as the controller's own probe takes it (loadgen/probe.ts). */
function probeRequest(req: HttpRequestSpec, signal: AbortSignal): ProbeRequest {
  return { ...req, body: req.bodyB64 ? Buffer.from(req.bodyB64, 'base64') : undefined, signal };
}

const toReply = (r: ProbeResponse): HttpReply => ({ status: r.status, bodyB64: r.body.toString('base64'), headers: r.headers });

/** The controller's poll loop (loadgen/probe.ts pollUntil): attempt, accept a 200, pause intervalMs. */
async function poll(req: HttpRequestSpec, intervalMs: number, durationMs: number, signal: AbortSignal): Promise<PollReply> {
  const deadline = performance.now() + durationMs;
  const connectTimeoutMs = req.connectTimeoutMs ?? req.timeoutMs;
  // An attempt that reached the server may take what is left of the deadline (see measure/startup.ts).
  const attempt = () =>
    probe({ ...probeRequest(req, signal), connectTimeoutMs, timeoutMs: req.method === 'POST' ? Math.max(connectTimeoutMs, deadline - performance.now()) : req.timeoutMs });
  try {
    const r = await pollUntil(attempt, (res) => res.status === 200, { intervalMs, deadline, signal });
    return { at: r.at, attempts: r.attempts, response: toReply(r.response) };
  } catch (err) {
    if (err instanceof PollTimeout) throw Object.assign(new Error(err.message), { kind: 'PollTimeout' });
    throw signal.aborted ? new Error('cancelled') : err;
  }
}

function target(t: WireTarget): TargetSpec {
  return { url: t.url, method: t.method, headers: t.headers, body: t.bodyB64 ? Buffer.from(t.bodyB64, 'base64') : undefined };
}

async function facts(): Promise<AgentFacts> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const cpus = os.cpus();
  const info = os.userInfo();
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? `${os.type()} ${os.release()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    bootId: (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim() || null,
    node: process.version,
    user: info.username,
    home: info.homedir,
  };
}

async function handle(req: AgentRequest, signal: AbortSignal): Promise<unknown> {
  switch (req.op) {
    case 'hello':
      return { protocol: AGENT_PROTOCOL, pid: process.pid, node: process.version, mono: performance.now(), epoch: Date.now() };
    case 'time':
      return { mono: performance.now(), epoch: Date.now() };
    case 'facts':
      return facts();
    case 'readFile':
      try {
        return { text: await readFile(req.path, 'utf8') };
      } catch (err) {
        return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
      }
    case 'readdir':
      return readdir(req.path);
    case 'freePort':
      return pickFreePort(req.avoid);
    case 'probe':
      return toReply(await probe(probeRequest(req.request, signal)));
    case 'poll':
      return poll(req.request, req.intervalMs, req.durationMs, signal);
    case 'closedLoop':
      return runClosedLoop({ ...(req.options as { connections: number; durationMs: number; timeoutMs: number }), target: target(req.target), signal });
    case 'openLoop':
      return runOpenLoop({ ...(req.options as { rate: number; durationMs: number; timeoutMs: number }), target: target(req.target), signal });
    case 'maxRate':
      return findMaxSustainableRate({ ...(req.options as { sloP99Ms: number; startRate: number; maxRate: number; stepDurationMs: number }), target: target(req.target), signal });
    case 'pin':
      return new Promise((resolve, reject) =>
        execFile('taskset', ['-a', '-p', '-c', req.cpus, String(process.pid)], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
      );
    case 'cancel':
      inflight.get(req.target)?.abort();
      return null;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let req: AgentRequest;
  try {
    req = JSON.parse(line) as AgentRequest;
  } catch {
    return;
  }
  const ac = new AbortController();
  inflight.set(req.id, ac);
  handle(req, ac.signal).then(
    (result) => send({ id: req.id, ok: true, result }),
    (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err), kind: (err as { kind?: string }).kind }),
  ).finally(() => inflight.delete(req.id));
});
// The controller went away (channel closed, connection lost): so does the helper.
lines.on('close', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
