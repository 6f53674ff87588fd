/**
 * The INDEPENDENT side of bench/crosscheck.sh. Deliberately shares no code with
 * the harness (nothing from src/): only Node built-ins, the `docker` CLI and
 * files under /proc and /sys/fs/cgroup.
 *
 *  cold start (N times): t0 = performance.now() just before spawning
 *    `docker run -d --network host -e VMBENCH_HOST=127.0.0.1 -e VMBENCH_PORT=<free port>
 *     -e VMBENCH_THREADS=2 --cpus 2 -m 1g <image>`;
 *    from t0 on, POST /v2/models/model/infer (raw float32 1×3×224×224,
 *    Content-Type: application/octet-stream) on a fresh connection, 10 ms
 *    after each failed attempt, until the first HTTP 200; then `docker rm -f`.
 *  memory (N times, one container alive at a time): the same `docker run`;
 *    GET /v2/health/ready every 10 ms until 200; wait `settle` after that
 *    200; then read, in this order:
 *      /proc/<State.Pid>/smaps_rollup (the server: Pss, Rss, Pss_Anon, Pss_File),
 *      /proc/<ppid>/smaps_rollup (the containerd-shim),
 *      the container's memory cgroup files (memory.stat, usage, kmem usage),
 *      `docker stats --no-stream` MEM USAGE,
 *      the cgroup files again (to bracket docker stats' own snapshot);
 *    then `docker rm -f`.
 *
 *   npx tsx bench/crosscheck-independent.ts --image IMG --n 5 --settle-ms 2000 \
 *       --label crosscheck.session=ID --out result.json
 *
 * Traffic goes to 127.0.0.1 only. Writes a JSON document to --out.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';

// ---------------------------------------------------------------------------
// arguments

const argv = process.argv.slice(2);
function flag(name: string, fallback?: string): string {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}
const image = flag('image');
const n = Number(flag('n', '5'));
const settleMs = Number(flag('settle-ms', '2000'));
const label = flag('label', 'crosscheck.session=manual');
const outFile = flag('out');
const threads = flag('threads', '2');
const cpus = flag('cpus', '2');
const memory = flag('memory', '1g');
const pollMs = 10;
const timeoutMs = 120_000;
if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer (got ${n})`);

// ---------------------------------------------------------------------------
// small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function docker(args: string[]): Promise<string> {
  const r = await run('docker', args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** A free TCP port on 127.0.0.1 (bound and released; host networking shares the host's ports). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** One request on a fresh connection (no keep-alive agent); resolves with the status. */
function request(port: number, method: 'GET' | 'POST', path: string, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        timeout: 30_000,
        headers: body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Repeat a request until HTTP 200, pausing `pollMs` after each failure. Returns performance.now() of the 200. */
async function pollFor200(port: number, method: 'GET' | 'POST', path: string, body: Buffer | undefined, deadline: number) {
  let attempts = 0;
  const seen = new Map<string, number>();
  for (;;) {
    attempts += 1;
    let what: string;
    try {
      const status = await request(port, method, path, body);
      const at = performance.now();
      if (status === 200) return { at, attempts, seen: Object.fromEntries(seen) };
      what = `HTTP ${status}`;
    } catch (err) {
      what = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    seen.set(what, (seen.get(what) ?? 0) + 1);
    if (performance.now() > deadline) throw new Error(`no HTTP 200 on ${path} after ${attempts} attempts (${[...seen].map(([k, v]) => `${k}×${v}`).join(', ')})`);
    await sleep(pollMs);
  }
}

function dockerRunArgs(name: string, port: number): string[] {
  return [
    'run', '-d',
    '--name', name,
    '--label', label,
    '--network', 'host',
    '-e', 'VMBENCH_HOST=127.0.0.1',
    '-e', `VMBENCH_PORT=${port}`,
    '-e', `VMBENCH_THREADS=${threads}`,
    '--cpus', cpus,
    '-m', memory,
    image,
  ];
}

const started = new Set<string>();
async function remove(name: string): Promise<void> {
  await run('docker', ['rm', '-f', name]);
  started.delete(name);
}
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\n${sig}: removing ${started.size} container(s)…\n`);
    void Promise.all([...started].map(remove)).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------
// /proc and cgroup readers (host side)

const KiB = 1024;
function smapsRollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * KiB;
  }
  if (out.Pss === undefined) throw new Error(`/proc/${pid}/smaps_rollup has no Pss line`);
  return out;
}

/** Rss of the process's largest anonymous mappings (no path), KiB, largest first: where its anon memory lives. */
function largestAnonMappings(pid: number, count: number): number[] {
  const sizes: number[] = [];
  let anon = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+(?:\s+(.*))?$/.exec(line);
    if (head) anon = !head[1]?.trim();
    else if (anon && line.startsWith('Rss:')) sizes.push(Number(/(\d+)/.exec(line)![1]));
  }
  return sizes.sort((a, b) => b - a).slice(0, count);
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // pid (comm) state ppid …  — comm may contain spaces/parens: split after the last ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

/** The container's memory cgroup directory, from /proc/<pid>/cgroup (v1 `memory` controller, else the v2 `0::` line). */
function memoryCgroupDir(pid: number): { dir: string; version: 1 | 2 } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (v1) return { dir: `/sys/fs/cgroup/memory${v1.split(':')[2]}`, version: 1 };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) return { dir: `/sys/fs/cgroup${v2.slice(3)}`, version: 2 };
  throw new Error(`no memory cgroup in /proc/${pid}/cgroup`);
}

function readNum(path: string): number | null {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function cgroupSnapshot(dir: string, version: 1 | 2) {
  const stat: Record<string, number> = {};
  for (const line of readFileSync(`${dir}/memory.stat`, 'utf8').split('\n')) {
    const m = /^(\w+) (\d+)$/.exec(line.trim());
    if (m) stat[m[1]!] = Number(m[2]);
  }
  const usage = version === 1 ? readNum(`${dir}/memory.usage_in_bytes`) : readNum(`${dir}/memory.current`);
  const kmem = version === 1 ? readNum(`${dir}/memory.kmem.usage_in_bytes`) : (stat.kernel ?? null);
  return { usage, kmem, stat };
}

/** "231.4MiB / 1GiB" → bytes of the first figure (docker prints binary units for memory). */
function parseDockerSize(s: string): number {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)\b/i.exec(s);
  if (!m) throw new Error(`cannot parse docker stats size ${JSON.stringify(s)}`);
  const unit = m[2]!.toLowerCase();
  const pow = { b: 0, kib: 1, mib: 2, gib: 3, tib: 4, kb: 1, mb: 2, gb: 3, tb: 4 }[unit];
  if (pow === undefined) throw new Error(`unknown unit ${m[2]}`);
  const base = unit.includes('i') || unit === 'b' ? 1024 : 1000;
  return Number(m[1]) * base ** pow;
}

// ---------------------------------------------------------------------------
// measurements

// 1×3×224×224 float32, little-endian; values are irrelevant to timing (a ramp in [0, 1)).
const body = Buffer.alloc(3 * 224 * 224 * 4);
for (let i = 0; i < body.length / 4; i++) body.writeFloatLE((i % 997) / 997, i * 4);

const tag = `crosscheck-${process.pid}`;

interface ColdSample {
  ms: number;
  dockerRunExitMs: number;
  attempts: number;
  failedAttempts: Record<string, number>;
  /** Server's own VMBENCH_PHASE lines, ms after t0 (epoch clock, ±1 ms). */
  phases: Record<string, number>;
}

async function coldStart(i: number): Promise<ColdSample> {
  const port = await freePort();
  const name = `${tag}-cold-${i}`;
  started.add(name);
  const epoch0 = Date.now();
  const t0 = performance.now();
  const runP = run('docker', dockerRunArgs(name, port)).then((r) => ({ ...r, at: performance.now() }));
  const poll = pollFor200(port, 'POST', '/v2/models/model/infer', body, t0 + timeoutMs);
  const [r, p] = await Promise.all([runP, poll.catch((e: unknown) => e as Error)]);
  if (r.code !== 0) throw new Error(`docker run: exit ${r.code}: ${r.stderr.trim()}`);
  if (p instanceof Error) throw p;
  const phases: Record<string, number> = {};
  const logs = await run('docker', ['logs', name]);
  for (const m of (logs.stdout + logs.stderr).matchAll(/VMBENCH_PHASE (\w+) (\d+)/g)) phases[m[1]!] = Number(m[2]) - epoch0;
  await remove(name);
  return { ms: p.at - t0, dockerRunExitMs: r.at - t0, attempts: p.attempts, failedAttempts: p.seen, phases };
}

interface MemSample {
  sinceReadyMs: number;
  pid: number;
  pidCmd: string;
  server: Record<string, number>;
  /** Rss (KiB) of the server's 4 largest anonymous mappings. */
  anonMappingsKiB: number[];
  shimPid: number;
  shimCmd: string;
  shim: Record<string, number>;
  cgroupDir: string;
  cgroupVersion: 1 | 2;
  cgroupProcs: number[];
  /** Σ Pss_File of every process in the container's cgroup. */
  procsPssFile: number;
  before: ReturnType<typeof cgroupSnapshot>;
  /** The parent cgroup (e.g. /sys/fs/cgroup/memory/docker), hierarchical: removed containers' dying cgroups still count there. */
  parentDir: string;
  parent: ReturnType<typeof cgroupSnapshot>;
  /** Other running containers of the same image at the reading (they share file pages, which lowers PSS). */
  otherContainersOfImage: number;
  after: ReturnType<typeof cgroupSnapshot>;
  dockerStatsRaw: string;
  dockerStatsBytes: number;
}

async function memoryReading(i: number): Promise<MemSample> {
  const port = await freePort();
  const name = `${tag}-mem-${i}`;
  started.add(name);
  const t0 = performance.now();
  await docker(dockerRunArgs(name, port));
  const ready = await pollFor200(port, 'GET', '/v2/health/ready', undefined, t0 + timeoutMs);
  const id = await docker(['inspect', '-f', '{{.Id}}', name]);
  const pid = Number(await docker(['inspect', '-f', '{{.State.Pid}}', name]));
  await sleep(Math.max(0, ready.at + settleMs - performance.now()));
  const sinceReadyMs = performance.now() - ready.at;
  const server = smapsRollup(pid);
  const anonMappingsKiB = largestAnonMappings(pid, 4);
  const shimPid = ppidOf(pid);
  const shim = smapsRollup(shimPid);
  const { dir, version } = memoryCgroupDir(pid);
  if (!dir.includes(id)) process.stderr.write(`warning: cgroup ${dir} does not name container ${id.slice(0, 12)}\n`);
  const procs = readFileSync(`${dir}/cgroup.procs`, 'utf8').trim().split('\n').filter(Boolean).map(Number);
  let procsPssFile = 0;
  for (const p of procs) procsPssFile += smapsRollup(p).Pss_File ?? 0;
  const pidCmd = cmdline(pid);
  const shimCmd = cmdline(shimPid);
  const before = cgroupSnapshot(dir, version);
  const parent = cgroupSnapshot(dirname(dir), version);
  const stats = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
  const after = cgroupSnapshot(dir, version);
  const sameImage = (await docker(['ps', '-q', '--no-trunc', '--filter', `ancestor=${image}`])).split('\n').filter((c) => c && c !== id).length;
  await remove(name);
  return {
    sinceReadyMs,
    pid,
    pidCmd,
    server,
    anonMappingsKiB,
    shimPid,
    shimCmd,
    shim,
    parentDir: dirname(dir),
    parent,
    otherContainersOfImage: sameImage,
    cgroupDir: dir,
    cgroupVersion: version,
    cgroupProcs: procs,
    procsPssFile,
    before,
    after,
    dockerStatsRaw: stats,
    dockerStatsBytes: parseDockerSize(stats),
  };
}

// What one docker CLI invocation costs by itself (process start, API ping/negotiation, one call).
const cliRoundTripMs: number[] = [];
for (let i = 0; i < n; i++) {
  const t = performance.now();
  await docker(['version', '--format', '{{.Server.Version}}']);
  cliRoundTripMs.push(performance.now() - t);
}
const loadBefore = loadavg();
const cold: ColdSample[] = [];
for (let i = 0; i < n; i++) {
  const s = await coldStart(i);
  cold.push(s);
  process.stderr.write(`  independent cold_start ${i + 1}/${n}: ${s.ms.toFixed(0)} ms (docker run exited at ${s.dockerRunExitMs.toFixed(0)} ms, ${s.attempts} attempts)\n`);
}
const mem: MemSample[] = [];
for (let i = 0; i < n; i++) {
  const s = await memoryReading(i);
  mem.push(s);
  process.stderr.write(
    `  independent memory ${i + 1}/${n}: Pss ${(s.server.Pss! / 2 ** 20).toFixed(1)} MiB, docker stats ${s.dockerStatsRaw}\n`,
  );
}
const dockerVersion = await docker(['version', '--format', 'client {{.Client.Version}} (API {{.Client.APIVersion}}), engine {{.Server.Version}}']);
const loadAfter = loadavg();
writeFileSync(outFile, JSON.stringify({ image, n, settleMs, pollMs, dockerVersion, cliRoundTripMs, loadBefore, loadAfter, cold, mem }, null, 2));
