import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BenchError, messageOf } from '../../errors.js';
import type { HostConfig } from '../../scenario/hosts.js';
import { parseHostUrl } from '../../scenario/hosts.js';
import type { HostFs } from '../host/host-fs.js';
import type { LoadSite } from '../load-site.js';
import { agentBundle } from './agent/bundle.js';
import { agentSite, AgentClient } from './agent/client.js';
import type { AgentFacts } from './agent/protocol.js';
import { ensureRemoteFile, type RemoteFile } from './remote-cache.js';
import { shellLine, shq, SshConnection, type SshTarget } from './ssh-connection.js';

/**
 * One target host, as every platform on it shares it: one SSH connection
 * (re-made on the next use after it is lost), the helper started on it, the
 * host's files and load site through that helper, its work directory and
 * content-addressed file cache, and its fingerprint. Nothing here keeps
 * state on the host beyond <work_dir>: the helper dies with its channel.
 */

/** A host's settings with defaults applied and paths expanded (on this machine). */
export interface ResolvedHost {
  name: string;
  hostname: string;
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  strict: boolean;
  /** As written (may start with ~, expanded on the host). */
  workDir: string;
  /** The host's libvirt, for kind: vagrant there (qemu+ssh://). */
  libvirt: { socket?: string; pool: string; emulator?: string };
}

const expand = (p: string) => (p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p);
const DEFAULT_KEYS = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];
export const DEFAULT_WORK_DIR = '~/.cache/vmbench-host';

export function resolveHost(name: string, cfg: HostConfig): ResolvedHost {
  const url = parseHostUrl(cfg.url);
  if (typeof url === 'string' || url.kind !== 'ssh') throw new BenchError('internal', `host ${name}: not an ssh:// URL: ${cfg.url}`);
  const key = cfg.key ?? url.key ?? DEFAULT_KEYS.find((k) => existsSync(expand(k))) ?? DEFAULT_KEYS[0]!;
  return {
    name,
    hostname: url.hostname,
    port: url.port,
    user: url.user ?? userInfo().username,
    keyPath: expand(key),
    knownHostsPath: expand(cfg.known_hosts ?? url.knownHosts ?? '~/.ssh/known_hosts'),
    strict: cfg.strict_host_key_checking,
    workDir: cfg.work_dir ?? DEFAULT_WORK_DIR,
    libvirt: { pool: cfg.libvirt?.pool ?? 'default', ...(cfg.libvirt?.socket ? { socket: cfg.libvirt.socket } : {}), ...(cfg.libvirt?.emulator ? { emulator: cfg.libvirt.emulator } : {}) },
  };
}

/** What the environment records per host. */
export type HostFingerprint = AgentFacts & {
  url: string;
  hostKey: string;
  hostKeyType: string;
  hostKeyChecked: boolean;
  sshConnectMs: number;
  /** Best controller ↔ helper round trip, ms (what the network between them costs, kept out of every latency). */
  controlRttMs: number;
  helperNode: string;
  workDir: string;
};

export class RemoteHost {
  private conn: SshConnection | null = null;
  private connecting: Promise<SshConnection> | null = null;
  private agentClient: AgentClient | null = null;
  private agentStarting: Promise<AgentClient> | null = null;
  private home: string | null = null;
  private nodePath: string | null = null;
  private cores: number | null = null;
  /** Connections made so far (1 + reconnects), for the record. */
  connections = 0;
  /** Every loss of the connection: when (performance.now()) and why. */
  readonly losses: { at: number; why: string }[] = [];
  readonly fs: HostFs;
  readonly site: LoadSite;

  constructor(
    readonly config: ResolvedHost,
    private readonly ctx: { cacheDir: string; log?: (line: string) => void },
  ) {
    const agent = () => this.agent();
    this.fs = { host: config.name, readFile: async (p) => (await agent()).readFile(p), readdir: async (p) => (await agent()).readdir(p) };
    this.site = agentSite(config.name, agent, async () => this.cores ?? (this.cores = (await (await agent()).facts()).cores));
  }

  get name(): string {
    return this.config.name;
  }

  get url(): string {
    return `ssh://${this.config.user}@${this.config.hostname}${this.config.port === 22 ? '' : `:${this.config.port}`}`;
  }

  private log(line: string): void {
    this.ctx.log?.(`[host ${this.name}] ${line}`);
  }

  /** The connection, made (or re-made after a loss) on demand. A failure is host_unreachable. */
  async connection(): Promise<SshConnection> {
    if (this.conn && this.conn.lost === null) return this.conn;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<SshConnection> {
    const c = this.config;
    let privateKey: string;
    let known: string;
    try {
      privateKey = await readFile(c.keyPath, 'utf8');
    } catch (err) {
      throw new BenchError('input', `host ${c.name}: cannot read the SSH key ${c.keyPath}: ${messageOf(err)}`, { hint: 'set key: under hosts.<name> (or ?key= in the URL)' });
    }
    try {
      known = await readFile(c.knownHostsPath, 'utf8');
    } catch (err) {
      if (c.strict) {
        throw new BenchError('infrastructure', `host ${c.name}: cannot read ${c.knownHostsPath}: ${messageOf(err)}`, {
          hint: `add the host's key: ssh-keyscan -p ${c.port} ${c.hostname} >> ${c.knownHostsPath} (after checking it), or set known_hosts:`,
        });
      }
      known = '';
    }
    const target: SshTarget = { hostname: c.hostname, port: c.port, username: c.user, privateKey, knownHosts: { text: known, file: c.knownHostsPath }, strict: c.strict, readyTimeoutMs: 15_000 };
    let conn: SshConnection;
    try {
      conn = await SshConnection.connect(target);
    } catch (err) {
      const e = err instanceof BenchError ? err : new BenchError('infrastructure', messageOf(err), { cause: err });
      // A refused host key or key is not a lost connection: it must stop the run, not a sample.
      if (/host key check failed|authentication methods failed/.test(e.message)) throw e;
      throw new BenchError('infrastructure', `host ${c.name}: ${e.message}`, { cause: err, hint: e.hint, category: 'host_unreachable' });
    }
    this.connections += 1;
    if (this.connections > 1) this.log(`reconnected (connection ${this.connections})`);
    conn.onClose((why) => {
      if (why === 'closed by vmbench') return;
      this.losses.push({ at: performance.now(), why });
      this.log(`connection lost: ${why}`);
    });
    this.conn = conn;
    this.agentClient = null;
    return conn;
  }

  /** The host's home directory (for ~ in work_dir). */
  private async homeDir(): Promise<string> {
    if (this.home) return this.home;
    const out = (await (await this.connection()).run('printf %s "$HOME"')).trim();
    if (!out.startsWith('/')) throw new BenchError('infrastructure', `host ${this.name}: cannot tell its home directory (got ${JSON.stringify(out)})`);
    return (this.home = out);
  }

  /** <work_dir> as an absolute path on the host, created. */
  async workDir(): Promise<string> {
    const w = this.config.workDir;
    const abs = w === '~' ? await this.homeDir() : w.startsWith('~/') ? `${await this.homeDir()}/${w.slice(2)}` : w;
    await (await this.connection()).run(shellLine(['mkdir', '-p', abs]));
    return abs;
  }

  /** A local file in the host's cache (copied once, verified on arrival). */
  async ensureFile(localPath: string, name?: string): Promise<RemoteFile> {
    const f = await ensureRemoteFile(await this.connection(), await this.workDir(), localPath, name);
    if (f.uploaded) this.log(`copied ${name ?? localPath} (${(f.bytes / 2 ** 20).toFixed(1)} MiB, sha256 ${f.sha256.slice(0, 12)}… verified on arrival) in ${(f.ms / 1000).toFixed(1)} s`);
    return f;
  }

  /** Node ≥ 20 on the host's PATH, else this machine's node binary shipped there (by digest). */
  private async node(): Promise<string> {
    if (this.nodePath) return this.nodePath;
    const conn = await this.connection();
    const r = await conn.exec('command -v node && node --version');
    const [path, version] = r.stdout.trim().split('\n');
    const major = Number(/^v(\d+)/.exec(version ?? '')?.[1] ?? 0);
    if (r.code === 0 && path && major >= 20) return (this.nodePath = path);
    const shipped = await this.ensureFile(process.execPath, 'node');
    await conn.run(shellLine(['chmod', '0755', shipped.path]));
    this.log(`no Node ≥ 20 on the host (${version ?? 'none'}): using ${process.version} shipped from here`);
    return (this.nodePath = shipped.path);
  }

  /** The helper, started (or re-started after a loss) on demand. */
  async agent(): Promise<AgentClient> {
    if (this.agentClient?.alive && this.conn?.lost === null) return this.agentClient;
    this.agentStarting ??= this.startAgent().finally(() => (this.agentStarting = null));
    return this.agentStarting;
  }

  private async startAgent(): Promise<AgentClient> {
    const conn = await this.connection();
    const bundle = await agentBundle(this.ctx.cacheDir);
    const tar = await this.ensureFile(bundle.tarball, 'agent.tar');
    const dir = `${await this.workDir()}/agent/${bundle.digest.slice(0, 16)}`;
    await conn.run(`test -f ${shq(`${dir}/.unpacked`)} || { mkdir -p ${shq(dir)} && tar -xf ${shq(tar.path)} -C ${shq(dir)} && touch ${shq(`${dir}/.unpacked`)}; }`, { timeoutMs: 120_000 });
    const client = await AgentClient.start(conn, this.name, await this.node(), `${dir}/${bundle.entry}`);
    this.agentClient = client;
    this.log(`helper pid ${client.hello.pid} (node ${client.hello.node}), clock offset ±${client.clock?.uncertaintyMs.toFixed(2)} ms`);
    return client;
  }

  async fingerprint(): Promise<HostFingerprint> {
    const agent = await this.agent();
    const conn = await this.connection();
    const facts = await agent.facts();
    const sync = await agent.sync();
    this.cores = facts.cores;
    return {
      ...facts,
      url: this.url,
      hostKey: conn.hostKey.fingerprint,
      hostKeyType: conn.hostKey.type,
      hostKeyChecked: conn.hostKey.checked,
      sshConnectMs: Math.round(conn.connectMs),
      controlRttMs: Number((2 * sync.uncertaintyMs).toFixed(3)),
      helperNode: agent.hello.node,
      workDir: await this.workDir(),
    };
  }

  /** Why the connection was lost at or after sinceMono, or null. */
  lostSince(sinceMono: number): string | null {
    const l = this.losses.find((x) => x.at >= sinceMono);
    return l ? `the SSH connection to ${this.name} was lost (${l.why})` : null;
  }

  /** Host Date.now() − controller Date.now(), ms (to read epoch stamps written on the host). */
  async wallOffsetMs(): Promise<number> {
    const a = await this.agent();
    return (a.clock ?? (await a.sync())).wallOffsetMs;
  }

  async freePort(avoid: number[] = []): Promise<number> {
    return (await this.agent()).freePort(avoid);
  }

  close(): void {
    this.agentClient?.close();
    this.agentClient = null;
    this.conn?.close();
    this.conn = null;
  }
}

/** The scenario's remote hosts by name, one connection each, closed together at the end. */
export class HostRegistry {
  private readonly hosts = new Map<string, RemoteHost>();

  constructor(
    configs: Record<string, HostConfig>,
    ctx: { cacheDir: string; log?: (line: string) => void },
  ) {
    for (const [name, cfg] of Object.entries(configs)) this.hosts.set(name, new RemoteHost(resolveHost(name, cfg), ctx));
  }

  get(name: string): RemoteHost {
    const h = this.hosts.get(name);
    if (!h) throw new BenchError('internal', `no host named ${name} (hosts: ${[...this.hosts.keys()].join(', ') || 'none'})`);
    return h;
  }

  all(): RemoteHost[] {
    return [...this.hosts.values()];
  }

  close(): void {
    for (const h of this.hosts.values()) h.close();
  }
}
