/**
 * Test helpers: start src/workload/server/server.mjs with the host's node on
 * 127.0.0.1 and a free port, and talk to it with node:http.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { projectRoot, serverSourceDir } from '../../../src/paths.js';

export const SERVER_PATH = join(serverSourceDir(), 'server.mjs');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  child: ChildProcess;
  port: number;
  stdout: string[];
  stderr: string[];
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** VMBENCH_PHASE lines seen so far: phase → epoch ms. */
  phases(): Map<string, number>;
  /** SIGKILL if still running. */
  kill(): void;
}

export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const port = env.VMBENCH_PORT !== undefined ? Number(env.VMBENCH_PORT) : await freePort();
  const child = spawn(process.execPath, [SERVER_PATH], {
    cwd: projectRoot(),
    env: { ...process.env, VMBENCH_HOST: '127.0.0.1', VMBENCH_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines = (sink: string[]) => {
    let buf = '';
    return (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      sink.push(...parts);
    };
  };
  child.stdout!.on('data', lines(stdout));
  child.stderr!.on('data', lines(stderr));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    port,
    stdout,
    stderr,
    exited,
    phases: () => {
      const m = new Map<string, number>();
      for (const l of stdout) {
        const match = /^VMBENCH_PHASE (\S+) (\d+)$/.exec(l);
        if (match) m.set(match[1]!, Number(match[2]));
      }
      return m;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

export function request(port: number, o: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path,
        headers: o.headers,
        agent: o.agent ?? false,
        timeout: o.timeoutMs ?? 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`request ${o.method ?? 'GET'} ${o.path} timed out`)));
    req.end(o.body);
  });
}

export function json(r: Reply): any {
  return JSON.parse(r.body.toString('utf8'));
}

export function postJson(port: number, path: string, doc: unknown): Promise<Reply> {
  return request(port, {
    method: 'POST',
    path,
    headers: { 'Content-Type': 'application/json' },
    body: typeof doc === 'string' ? doc : JSON.stringify(doc),
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function waitReady(s: RunningServer, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    'the server to be ready',
    async () => {
      if (s.child.exitCode !== null) throw new Error(`server exited (${s.child.exitCode}): ${s.stderr.join('\n')}`);
      const r = await request(s.port, { path: '/v2/health/ready', timeoutMs: 2000 });
      return r.status === 200 ? true : undefined;
    },
    timeoutMs,
  );
}

/** A deterministic pseudo-image batch, roughly normalized ([-2, 2)). */
export function pseudoImages(n: number, seed: number): Float32Array {
  const x = new Float32Array(n * 3 * 224 * 224);
  let s = seed | 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    x[i] = ((s >>> 8) / 2 ** 24) * 4 - 2;
  }
  return x;
}

export function floatsToBuffer(f: Float32Array): Buffer {
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

export function bufferToFloats(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
