import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { BenchError, messageOf } from '../../errors.js';

/**
 * A minimal QMP client over QEMU's unix socket: greeting, qmp_capabilities,
 * then commands correlated by id. Events are kept (last few) but not needed.
 */

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; command: string };

export class QmpClient {
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greetingResolve?: () => void;
  private closedErr: Error | null = null;
  readonly events: { event: string; data?: unknown }[] = [];

  private constructor(private readonly sock: Duplex) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('end', () => this.fail(new BenchError('infrastructure', 'QMP connection closed')));
    sock.on('close', () => this.fail(new BenchError('infrastructure', 'QMP connection closed')));
  }

  /** Connect once (no retry) and negotiate capabilities. */
  static async connect(path: string, timeoutMs = 2000): Promise<QmpClient> {
    return QmpClient.over(connect({ path }), timeoutMs);
  }

  /** Negotiate on an already open stream to the QMP socket (e.g. one forwarded over SSH from another host). */
  static async over(sock: Duplex, timeoutMs = 2000): Promise<QmpClient> {
    const client = new QmpClient(sock);
    const timer = setTimeout(() => sock.destroy(new BenchError('infrastructure', `QMP handshake timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        client.greetingResolve = resolve;
        sock.once('error', reject);
        sock.once('close', () => reject(client.closedErr ?? new BenchError('infrastructure', 'QMP connection closed')));
      });
      await client.execute('qmp_capabilities');
      return client;
    } catch (err) {
      sock.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connect, retrying while the socket does not exist yet / refuses, until the deadline. */
  static async connectWithRetry(path: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<QmpClient> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    while (performance.now() < deadline) {
      if (!isAlive()) break;
      try {
        return await QmpClient.connect(path, Math.max(100, Math.min(2000, deadline - performance.now())));
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new BenchError('infrastructure', `QMP socket ${path} did not answer: ${messageOf(last ?? 'process exited')}`, {
      cause: last,
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ('QMP' in msg) {
        this.greetingResolve?.();
        this.greetingResolve = undefined;
      } else if ('event' in msg) {
        this.events.push({ event: String(msg.event), data: msg.data });
        if (this.events.length > 50) this.events.shift();
      } else if ('id' in msg) {
        const id = String(msg.id);
        const p = this.pending.get(id);
        if (!p) continue;
        this.pending.delete(id);
        if ('error' in msg) {
          const e = msg.error as { class?: string; desc?: string };
          p.reject(new BenchError('infrastructure', `QMP ${p.command}: ${e.class ?? 'Error'}: ${e.desc ?? ''}`));
        } else p.resolve(msg.return);
      }
    }
  }

  private fail(err: Error): void {
    if (!this.closedErr) this.closedErr = err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(err);
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 3000): Promise<T> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BenchError('infrastructure', `QMP ${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sock.write(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
    });
  }

  /** `query-status` → { running, status }. */
  async queryStatus(): Promise<{ running: boolean; status: string }> {
    return this.execute<{ running: boolean; status: string }>('query-status');
  }

  close(): void {
    this.sock.destroy();
  }
}
