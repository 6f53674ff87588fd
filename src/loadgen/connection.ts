/**
 * One keep-alive HTTP/1.1 connection on a raw TCP socket carrying one request
 * at a time. Raw sockets + a prebuilt request + a minimal parser keep the
 * generator's cost per request a few microseconds (node:http's client costs
 * several times more; see bench/loadgen-vs-wrk.sh).
 *
 * The connection only reports outcomes; timeouts and scheduling belong to the
 * loop that owns it.
 */
import net from 'node:net';
import { ProtocolError, ResponseParser } from './response-parser.js';
import type { Target } from './target.js';

export interface ConnectionEvents {
  /** A complete response arrived; the connection is idle again. */
  response(conn: Connection, status: number, now: number): void;
  /**
   * The request failed (socket error, connection closed early, protocol
   * error); the connection is idle again. `connectFailed`: the socket never
   * connected (e.g. ECONNREFUSED), so an immediate retry would spin.
   */
  failure(conn: Connection, kind: string, connectFailed: boolean, now: number): void;
}

export function errorKind(err: unknown): string {
  if (err instanceof ProtocolError) return 'protocol';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'socket';
}

export class Connection {
  busy = false;
  /** performance.now() when the current request was written. */
  sentAt = 0;
  /** performance.now() the current request was meant to be sent (open loop). */
  intendedAt = 0;
  /** Whether the current request falls in the measured window. */
  measured = false;
  private socket: net.Socket | null = null;
  private connected = false;
  private readonly parser: ResponseParser;

  constructor(
    private readonly target: Target,
    private readonly events: ConnectionEvents,
  ) {
    this.parser = new ResponseParser(target.method === 'HEAD');
  }

  send(now: number, intendedAt: number, measured: boolean): void {
    const socket = this.socket ?? this.open();
    this.busy = true;
    this.sentAt = now;
    this.intendedAt = intendedAt;
    this.measured = measured;
    this.parser.reset();
    socket.write(this.target.request);
  }

  /** Drops the socket and whatever is in flight on it, silently. */
  destroy(): void {
    const s = this.socket;
    this.socket = null;
    this.busy = false;
    s?.destroy();
  }

  private open(): net.Socket {
    const s = net.connect({ host: this.target.host, port: this.target.port });
    s.setNoDelay(true);
    this.socket = s;
    this.connected = false;
    s.once('connect', () => {
      if (this.socket === s) this.connected = true;
    });
    s.on('data', (chunk: Buffer) => this.onData(s, chunk));
    s.on('error', (err) => this.onClosed(s, errorKind(err)));
    s.on('close', () => this.onClosed(s, 'closed'));
    return s;
  }

  private onData(s: net.Socket, chunk: Buffer): void {
    if (s !== this.socket) return;
    if (!this.busy) {
      this.onClosed(s, 'protocol'); // unsolicited bytes: the stream is out of step
      return;
    }
    let complete: boolean;
    try {
      complete = this.parser.feed(chunk);
    } catch (err) {
      this.onClosed(s, errorKind(err));
      return;
    }
    if (!complete) return;
    this.busy = false;
    if (!this.parser.keepAlive) {
      this.socket = null;
      s.destroy();
    }
    this.events.response(this, this.parser.status, performance.now());
  }

  private onClosed(s: net.Socket, kind: string): void {
    if (s !== this.socket) return;
    this.socket = null;
    s.destroy();
    if (!this.busy) return; // an idle keep-alive connection closed by the server: reopen on next send
    this.busy = false;
    const now = performance.now();
    if (kind === 'closed' && this.parser.endsAtClose) {
      this.events.response(this, this.parser.status, now);
      return;
    }
    this.events.failure(this, kind, !this.connected, now);
  }
}
