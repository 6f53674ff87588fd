/**
 * The host helper: a small Node process vmbench starts over SSH on a target
 * host (shipped there with the artifact, see bundle.ts), so that readiness
 * polling and load generation run next to the instance — the controller's
 * network never enters a latency — and so that host-side readings (/proc,
 * /sys) are the target host's. It speaks protocol.ts on stdin/stdout and
 * exits as soon as stdin closes: when the controller ends the channel, or
 * the SSH connection dies, nothing of it stays behind.
 *
 * It sends traffic to 127.0.0.1 only (loadgen's target check; probeOnce's).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { findMaxSustainableRate, runClosedLoop, runOpenLoop, type TargetSpec } from '../../../loadgen/index.js';
import { AGENT_PROTOCOL, type AgentFacts, type AgentReply, type AgentRequest, type HttpReply, type HttpRequestSpec, type PollReply, type WireTarget } from './protocol.js';

const inflight = new Map<number, AbortController>();

function send(reply: AgentReply): void {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

function probeOnce(req: HttpRequestSpec, signal?: AbortSignal): Promise<HttpReply> {
  const url = new URL(req.url);
  if (url.hostname !== '127.0.0.1') return Promise.reject(new Error(`refusing to send traffic to ${url.hostname}: only 127.0.0.1 is allowed`));
  const body = req.bodyB64 ? Buffer.from(req.bodyB64, 'base64') : undefined;
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: '127.0.0.1', port: url.port, path: url.pathname + url.search, method: req.method ?? 'GET', agent: false, timeout: req.timeoutMs, signal,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bodyB64: Buffer.concat(chunks).toString('base64'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout after ${req.timeoutMs} ms`)));
    const connectMs = req.connectTimeoutMs ?? req.timeoutMs;
    r.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => r.destroy(new Error(`connect timeout after ${connectMs} ms`)), connectMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** The same loop as the controller's pollUntil (measure/http-probe.ts): attempt, accept a 200, pause intervalMs. */
async function poll(req: HttpRequestSpec, intervalMs: number, durationMs: number, signal: AbortSignal): Promise<PollReply> {
  const deadline = performance.now() + durationMs;
  let attempts = 0;
  let last = 'no attempt made';
  for (;;) {
    if (signal.aborted) throw new Error('cancelled');
    attempts += 1;
    try {
      // An attempt that reached the server may take what is left of the deadline (see measure/startup.ts).
      const timeoutMs = req.method === 'POST' ? Math.max(req.connectTimeoutMs ?? req.timeoutMs, deadline - performance.now()) : req.timeoutMs;
      const response = await probeOnce({ ...req, timeoutMs, connectTimeoutMs: req.connectTimeoutMs ?? req.timeoutMs }, signal);
      const at = performance.now();
      if (response.status === 200) return { at, attempts, response };
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() >= deadline) throw Object.assign(new Error(`gave up after ${attempts} attempts; last: ${last}`), { kind: 'PollTimeout' });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function target(t: WireTarget): TargetSpec {
  return { url: t.url, method: t.method, headers: t.headers, body: t.bodyB64 ? Buffer.from(t.bodyB64, 'base64') : undefined };
}

function freePort(avoid: number[]): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(0));
      srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        const a = srv.address();
        const p = typeof a === 'object' && a ? a.port : 0;
        srv.close(() => resolve(p));
      });
    });
  return (async () => {
    // Like platforms/host/ports.ts: below the ephemeral range first, so a forward and a kernel pick cannot collide.
    for (let i = 0; i < 50; i++) {
      const p = 20000 + Math.floor(Math.random() * 10000);
      if (!avoid.includes(p) && (await tryPort(p)) === p) return p;
    }
    for (let i = 0; i < 20; i++) {
      const p = await tryPort(0);
      if (p > 0 && !avoid.includes(p)) return p;
    }
    throw new Error('no free TCP port on 127.0.0.1');
  })();
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
      return freePort(req.avoid);
    case 'probe':
      return probeOnce(req.request, signal);
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
