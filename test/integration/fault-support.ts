import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { RunRecord } from '../../src/results/run-record.js';

/** Helpers of the fault-injection tests: a private Docker Engine, the CLI with its progress watched, listening sockets. */

export const root = join(import.meta.dirname, '..', '..');
export const bin = join(root, 'dist', 'cli', 'main.js');

/**
 * A Docker Engine of the test's own (its socket, data root and exec root
 * under `dir`, no bridge, no iptables), so it can be stopped and restarted
 * under a run without touching the host's engine or anyone else's containers.
 * One trap: a dockerd started with `--bridge=none` *deletes* the host's
 * docker0 (its "remove the default bridge" step), after which every
 * bridge-network container of the host's engine fails ("could not find bridge
 * docker0"); start() puts it back as it was (name, MAC, addresses). A bridge
 * of its own instead makes this dockerd 20.10 fail every container start.
 */
interface Bridge {
  mac: string;
  addrs: string[];
}

/** The host engine's docker0 as it is now (null: there is none). */
function hostBridge(): Bridge | null {
  const r = spawnSync('ip', ['-j', 'addr', 'show', 'docker0'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [link] = JSON.parse(r.stdout) as Array<{ address: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
  return link ? { mac: link.address, addrs: link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) } : null;
}

/** Put docker0 back when a `--bridge=none` dockerd has deleted it. */
function restoreHostBridge(b: Bridge): void {
  if (spawnSync('ip', ['link', 'show', 'docker0']).status === 0) return;
  spawnSync('ip', ['link', 'add', 'name', 'docker0', 'address', b.mac, 'type', 'bridge']);
  for (const a of b.addrs) spawnSync('ip', ['addr', 'add', a, 'dev', 'docker0']);
  spawnSync('ip', ['link', 'set', 'docker0', 'up']);
}

export class PrivateDockerd {
  readonly socket: string;
  private proc: ChildProcess | null = null;

  constructor(readonly dir: string) {
    // overlay2 wants a real filesystem under its data root; /var/lib is ext4 here like the rest.
    mkdirSync(dir, { recursive: true });
    this.socket = join(dir, 'docker.sock');
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    rmSync(join(this.dir, 'docker.pid'), { force: true }); // a crashed engine's: dockerd refuses to start over it
    const docker0 = hostBridge();
    const args = ['--config-file', join(this.dir, 'daemon.json'), '--host', this.host, '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'docker.pid'), '--iptables=false', '--ip-masq=false', '--bridge=none'];
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    this.proc = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const docker = new Dockerode({ socketPath: this.socket });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.version();
        if (docker0) restoreHostBridge(docker0);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`private dockerd on ${this.socket} did not answer within 60 s:\n${readFileSync(join(this.dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** SIGTERM, as `systemctl stop docker` does: the engine stops its containers and exits; SIGKILL: it crashes. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    this.proc = null;
  }

  async destroy(): Promise<void> {
    // Its containers first (a crashed engine's may still run under their shims), then the engine and whatever it left.
    await this.start().catch(() => undefined);
    const docker = new Dockerode({ socketPath: this.socket });
    for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await this.stop();
    spawnSync('pkill', ['-9', '-f', this.dir]);
    // Nothing of it may stay mounted before its directory goes.
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
      const m = line.split(' ')[1];
      if (m?.startsWith(this.dir)) spawnSync('umount', ['-l', m]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output: () => string;
  /** Resolves with the first line matching `re` (or rejects after `ms`). */
  waitFor: (re: RegExp, ms: number) => Promise<RegExpMatchArray>;
  exit: Promise<number | null>;
}

/** Starts the real CLI (dist/) with its output collected line by line. */
export function startCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn('node', [bin, ...args], { cwd: root, env: { ...process.env, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exit,
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        const m = out.match(re);
        if (m) return resolve(m);
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output so far:\n${out.slice(-3000)}`)), ms);
        waiters.push({ re, resolve: (x) => (clearTimeout(timer), resolve(x)) });
        void exit.then(() => setTimeout(() => reject(new Error(`the CLI exited before ${re}; output:\n${out.slice(-3000)}`)), 50));
      }),
  };
}

export function readRecord(resultsRoot: string, runId: string): RunRecord {
  return JSON.parse(readFileSync(join(resultsRoot, runId, 'run.json'), 'utf8')) as RunRecord;
}

/** The run id the CLI prints first ("run <id> → <dir>"). */
export const RUN_LINE = /run (\S+) → /;

/** Processes of this host whose command line names the run (QEMU: -name vmbench-<runId>-…). */
export function processesNaming(runId: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if ((argv[0]?.split('/').pop() ?? '').startsWith('qemu-system') && argv.some((a) => a.includes(`vmbench-${runId}-`))) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Local addresses a process listens on (TCP, v4 and v6), from its socket
 * inodes matched against /proc/net/tcp{,6} in its own network namespace.
 */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const file of ['tcp', 'tcp6']) {
    const path = `/proc/${pid}/net/${file}`;
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A: LISTEN
      out.push(decodeAddress(f[1]!));
    }
  }
  return out;
}

function decodeAddress(hex: string): string {
  const [addr, port] = hex.split(':') as [string, string];
  const p = parseInt(port, 16);
  if (addr.length === 8) {
    const b = addr.match(/../g)!.map((x) => parseInt(x, 16)).reverse();
    return `${b.join('.')}:${p}`;
  }
  // IPv6: four little-endian 32-bit words
  const words = addr.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${p}`;
}
