import { createInterface } from 'node:readline';
import type { ClientChannel } from 'ssh2';
import { BenchError } from '../../../errors.js';
import type { LoadResult, MaxRateResult, TargetSpec } from '../../../loadgen/index.js';
import type { HostFs } from '../../host/host-fs.js';
import type { LoadSite, SitePollResult, SiteRequest, SiteResponse } from '../../load-site.js';
import { shellLine, type SshConnection } from '../ssh-connection.js';
import { AGENT_PROTOCOL, type AgentFacts, type AgentHello, type AgentReply, type AgentRequest, type HttpReply, type HttpRequestSpec, type PollReply, type WireTarget } from './protocol.js';

/**
 * The controller's end of the host helper (agent.ts): requests over one SSH
 * channel, the helper's clock mapped onto ours, and the helper as a HostFs
 * and a LoadSite. The clock mapping is NTP's: a round trip t0 → helper time
 * h → t1 says h happened at (t0 + t1) / 2 ± (t1 − t0) / 2 here; the best of a
 * few round trips, taken right after each event it maps, bounds the error
 * by half a round trip (well under a millisecond on a LAN).
 */

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; op: string };
type Request = AgentRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface ClockSync {
  /** helper performance.now() − controller performance.now(), ms. */
  offsetMs: number;
  /** ± ms of that offset (half the best round trip). */
  uncertaintyMs: number;
  /** helper Date.now() − controller Date.now(), ms (wall clocks; for epoch stamps the helper's host writes). */
  wallOffsetMs: number;
}

const SYNC_ROUNDS = 5;

function wireTarget(t: TargetSpec): WireTarget {
  const body = t.body === undefined ? undefined : typeof t.body === 'string' ? Buffer.from(t.body, 'utf8') : Buffer.from(t.body);
  return { url: t.url, method: t.method, headers: t.headers, ...(body && body.length ? { bodyB64: body.toString('base64') } : {}) };
}

function wireRequest(r: SiteRequest): HttpRequestSpec {
  return { url: r.url, method: r.method, headers: r.headers, timeoutMs: r.timeoutMs, connectTimeoutMs: r.connectTimeoutMs, ...(r.body ? { bodyB64: r.body.toString('base64') } : {}) };
}

function fromWire(r: HttpReply): SiteResponse {
  return { status: r.status, body: Buffer.from(r.bodyB64, 'base64'), headers: r.headers };
}

/** What a numeric-options load request keeps: numbers only (the signal travels as a cancel). */
function numbers(o: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number') out[k] = v;
  return out;
}

export class AgentClient implements HostFs {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: string | null = null;
  hello!: AgentHello;
  private lastSync: ClockSync | null = null;

  private constructor(
    readonly host: string,
    private readonly conn: SshConnection,
    private readonly channel: ClientChannel,
  ) {
    const lines = createInterface({ input: channel });
    lines.on('line', (line) => this.onLine(line));
    let stderr = '';
    channel.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
    channel.on('close', () => this.fail(this.conn.lost ?? `the helper exited${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`));
  }

  /** Start `node <entry>` on the host and greet it. */
  static async start(conn: SshConnection, host: string, node: string, entry: string): Promise<AgentClient> {
    const channel = await conn.spawn(`exec ${shellLine([node, entry])}`);
    const client = new AgentClient(host, conn, channel);
    client.hello = await client.request<AgentHello>({ op: 'hello' }, undefined, 30_000);
    if (client.hello.protocol !== AGENT_PROTOCOL) {
      client.close();
      throw new BenchError('internal', `${host}: the helper speaks protocol ${client.hello.protocol}, expected ${AGENT_PROTOCOL}`);
    }
    await client.sync();
    return client;
  }

  get alive(): boolean {
    return this.closed === null;
  }

  private onLine(line: string): void {
    let reply: AgentReply;
    try {
      reply = JSON.parse(line) as AgentReply;
    } catch {
      return;
    }
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(Object.assign(new Error(`${this.host} helper: ${p.op}: ${reply.error}`), reply.kind ? { name: reply.kind } : {}));
  }

  private fail(why: string): void {
    if (this.closed !== null) return;
    this.closed = why;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(this.unreachable(p.op));
    }
  }

  private unreachable(op: string): BenchError {
    return new BenchError('infrastructure', `host ${this.host}: ${op}: ${this.closed ?? 'helper gone'}`, { category: 'host_unreachable' });
  }

  request<T>(req: Request, signal?: AbortSignal, timeoutMs?: number): Promise<T> {
    if (this.closed !== null) return Promise.reject(this.unreachable(req.op));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new BenchError('interrupted', 'aborted'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        this.channel.write(`${JSON.stringify({ id: this.nextId++, op: 'cancel', target: id })}\n`);
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.pending.delete(id);
        done();
        reject(new BenchError('infrastructure', `host ${this.host}: the helper did not answer ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        op: req.op,
        resolve: (v) => (done(), resolve(v as T)),
        reject: (e) => (done(), reject(signal?.aborted ? (signal.reason ?? e) : e)),
      });
      this.channel.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  /** The best of SYNC_ROUNDS round trips (the shortest bounds the error best). */
  async sync(rounds = SYNC_ROUNDS): Promise<ClockSync> {
    let best: ClockSync | null = null;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const w0 = Date.now();
      const h = await this.request<{ mono: number; epoch: number }>({ op: 'time' }, undefined, 10_000);
      const t1 = performance.now();
      const w1 = Date.now();
      const s: ClockSync = { offsetMs: h.mono - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2, wallOffsetMs: h.epoch - (w0 + w1) / 2 };
      if (!best || s.uncertaintyMs < best.uncertaintyMs) best = s;
    }
    this.lastSync = best!;
    return best!;
  }

  get clock(): ClockSync | null {
    return this.lastSync;
  }

  /** A helper time on the controller's clock, with a fresh sync (3 round trips) taken now. */
  async toController(helperMono: number): Promise<{ at: number; uncertaintyMs: number }> {
    const s = await this.sync(3);
    return { at: helperMono - s.offsetMs, uncertaintyMs: s.uncertaintyMs };
  }

  facts(): Promise<AgentFacts> {
    return this.request<AgentFacts>({ op: 'facts' }, undefined, 30_000);
  }

  async readFile(path: string): Promise<string> {
    const r = await this.request<{ text?: string; error?: string }>({ op: 'readFile', path }, undefined, 30_000);
    if (r.text === undefined) throw Object.assign(new Error(`${this.host}:${path}: ${r.error ?? 'unreadable'}`), { code: r.error });
    return r.text;
  }

  readdir(path: string): Promise<string[]> {
    return this.request<string[]>({ op: 'readdir', path }, undefined, 30_000);
  }

  freePort(avoid: number[] = []): Promise<number> {
    return this.request<number>({ op: 'freePort', avoid }, undefined, 30_000);
  }

  async probe(req: SiteRequest): Promise<SiteResponse> {
    return fromWire(await this.request<HttpReply>({ op: 'probe', request: wireRequest(req) }));
  }

  async pollUntilOk(req: SiteRequest, o: { intervalMs: number; deadline: number; signal?: AbortSignal }): Promise<SitePollResult> {
    const durationMs = Math.max(0, o.deadline - performance.now());
    const r = await this.request<PollReply>({ op: 'poll', request: wireRequest(req), intervalMs: o.intervalMs, durationMs }, o.signal);
    const mapped = await this.toController(r.at);
    return { at: mapped.at, attempts: r.attempts, response: fromWire(r.response), clockUncertaintyMs: mapped.uncertaintyMs };
  }

  load(op: 'closedLoop' | 'openLoop', o: { target: TargetSpec; signal?: AbortSignal }): Promise<LoadResult> {
    const { target, signal, ...rest } = o;
    return this.request<LoadResult>({ op, target: wireTarget(target), options: numbers(rest) }, signal);
  }

  maxRate(o: { target: TargetSpec; signal?: AbortSignal }): Promise<MaxRateResult> {
    const { target, signal, ...rest } = o;
    return this.request<MaxRateResult>({ op: 'maxRate', target: wireTarget(target), options: numbers(rest) }, signal);
  }

  async pin(cpus: string): Promise<void> {
    await this.request({ op: 'pin', cpus }, undefined, 30_000);
  }

  close(): void {
    this.fail('closed by vmbench');
    this.channel.close();
  }
}

/** A LoadSite over whichever helper is current (a reconnect starts a new one): `get` hands it out. */
export function agentSite(host: string, get: () => Promise<AgentClient>, cpus: () => Promise<number>): LoadSite {
  return {
    where: `host ${host}`,
    probe: async (req) => (await get()).probe(req),
    pollUntilOk: async (req, o) => (await get()).pollUntilOk(req, o),
    closedLoop: async (o) => (await get()).load('closedLoop', o),
    openLoop: async (o) => (await get()).load('openLoop', o),
    maxRate: async (o) => (await get()).maxRate(o),
    hostCpus: cpus,
    pinGenerator: async (list) => (await get()).pin(list),
  };
}
