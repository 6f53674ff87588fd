/**
 * Soak test of the harness's reliability (issue 13): real `bench run`s
 * interrupted at random points — during the artifact build, a VM boot, a load
 * window, density — with SIGINT, SIGTERM or SIGKILL, then checked:
 *
 *  - nothing is left: containers labelled with the run, QEMU or any other
 *    process naming the run, its scratch dir (overlays, sockets, keys), its
 *    owner marker, temp dirs of the cache (after `bench gc --run <id>` for
 *    SIGKILL — the harness had no chance to clean up — and never for the others);
 *  - no sample is lost: every complete line of samples.jsonl written before the
 *    interrupt is still there, byte for byte, after `bench run --resume`;
 *  - the resumed run completes: its last segment completed, every step done.
 *
 * It runs for a bounded time (no new run starts once the next could overrun it)
 * and prints runs, interrupts, leaked resources and lost samples (+ JSON).
 * Only this checkout's cache and its own run ids are touched; nothing but
 * 127.0.0.1 is used. Usage: bench/soak.sh --help.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { seededRandom } from '../src/stats/random.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const cacheDir = resolve(process.env.VMBENCH_CACHE_DIR ?? join(root, '.bench'));
const docker = new Dockerode();

type Where = 'build' | 'boot' | 'load' | 'density';
type Signal = 'SIGINT' | 'SIGTERM' | 'SIGKILL';

interface Leaks {
  containers: number;
  qemu: number;
  processes: number;
  overlays: number;
  scratchDirs: number;
  ownerMarkers: number;
  tempDirs: number;
}

interface Iteration {
  n: number;
  where: Where;
  signal: Signal;
  runId: string | null;
  /** Seconds after the phase began that the signal was sent; null: the phase never came (the run ended first). */
  delayS: number | null;
  exitCode: number | null;
  exitS: number | null;
  samplesBefore: number;
  tornTail: boolean;
  /** SIGKILL only: what the dead harness left before `bench gc` (what gc had to find). */
  leftBeforeGc: Leaks | null;
  leaksAfterInterrupt: Leaks;
  resumed: boolean;
  resumeExit: number | null;
  completed: boolean;
  lostSamples: number;
  leaksAfterResume: Leaks;
  wallS: number;
  note: string;
}

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '15' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    out: { type: 'string', default: join(root, 'results', `soak-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`) },
    where: { type: 'string', default: 'build,boot,load,density' },
    signals: { type: 'string', default: 'SIGINT,SIGTERM,SIGKILL' },
    'keep-artifacts': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write(`npx tsx bench/soak.ts [--minutes 15] [--seed N] [--out DIR] [--where build,boot,load,density] [--signals SIGINT,SIGTERM,SIGKILL] [--keep-artifacts]\n`);
  process.exit(0);
}
const minutes = Number(opts.minutes);
const wheres = opts.where.split(',') as Where[];
const signals = opts.signals.split(',') as Signal[];
if (!(minutes > 0) || wheres.some((w) => !['build', 'boot', 'load', 'density'].includes(w)) || signals.some((s) => !['SIGINT', 'SIGTERM', 'SIGKILL'].includes(s))) {
  process.stderr.write(`soak: bad --minutes ${opts.minutes}, --where ${opts.where} or --signals ${opts.signals}\n`);
  process.exit(2);
}

// The soak's choices are reproducible from --seed.
const random = seededRandom(Number(opts.seed));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** The scenario of each interruption point, small enough that a run (and its resume) takes minutes here. */
function scenarioFor(where: Where, n: number): string {
  const head = (platforms: string) => `name: soak-${where}\nworkload:\n  model: resnet18\n  threads: 1\n${where === 'build' ? `  seed: ${1000 + Math.floor(random() * 1e6)}\n` : ''}platforms:\n${platforms}`;
  const c = '  - { name: c, kind: docker, cpus: 1, memory: 1GiB, network: host }\n';
  switch (where) {
    // A new seed makes new weights, so the artifact is built again (and interrupted while it is).
    case 'build': return `${head(c)}measurements:\n  startup: { repetitions: 2, warmup: 0, timeout: 120s }\n`;
    case 'boot': return `${head(`${c}  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, machine: pc }\n`)}measurements:\n  startup: { repetitions: 1, warmup: 0, timeout: 300s }\n  cold_start: { repetitions: 1, timeout: 300s }\n`;
    case 'load': return `${head(c)}measurements:\n  startup: { repetitions: 2, warmup: 0, timeout: 120s }\n  throughput: { mode: closed, connections: [1, 2], duration: 8s, warmup: 2s }\n`;
    case 'density': return `${head(c)}measurements:\n  startup: { repetitions: 2, warmup: 0, timeout: 120s }\n  density: { max_instances: 3, memory_budget: 4GiB, slo_p99: 5s }\n`;
  }
  void n;
}

/** What marks the start of the interruption point in the plain progress lines (or the VM's process). */
function phaseBegan(where: Where, output: string, runId: string | null): boolean {
  switch (where) {
    case 'build': return /build \S+…/.test(output);
    case 'boot': return runId !== null && processesNaming(runId, true).length > 0;
    case 'load': return /\] throughput on /.test(output);
    case 'density': return /\] density on /.test(output);
  }
}
/** How long after the phase began the signal may come (s): inside the phase, at a random point. */
const WINDOW: Record<Where, [number, number]> = { build: [0.2, 8], boot: [1, 45], load: [0.5, 9], density: [0.5, 12] };

function processesNaming(runId: string, qemuOnly = false): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const isQemu = (argv[0]?.split('/').pop() ?? '').startsWith('qemu-system');
      if (qemuOnly && !isQemu) continue;
      if (argv.some((a) => a.includes(runId)) && !argv.some((a) => a === '--resume' || a === 'gc')) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

function findFiles(dir: string, test: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, test));
    else if (test(e.name)) out.push(p);
  }
  return out;
}

const tmpBefore = new Set(tempEntries());
function tempEntries(): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).filter((e) => e.startsWith('tmp-')).concat(existsSync(join(cacheDir, 'tmp')) ? readdirSync(join(cacheDir, 'tmp')).map((e) => `tmp/${e}`) : []) : [];
}

async function leaks(runId: string | null): Promise<Leaks> {
  const l: Leaks = { containers: 0, qemu: 0, processes: 0, overlays: 0, scratchDirs: 0, ownerMarkers: 0, tempDirs: 0 };
  l.tempDirs = tempEntries().filter((e) => !tmpBefore.has(e)).length;
  if (!runId) return l;
  l.containers = (await docker.listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } })).length;
  l.qemu = processesNaming(runId, true).length;
  l.processes = processesNaming(runId).length - l.qemu;
  const scratch = join(cacheDir, 'runs', runId);
  l.scratchDirs = existsSync(scratch) ? 1 : 0;
  l.overlays = findFiles(scratch, (n) => n.endsWith('.qcow2') || n.endsWith('.img')).length;
  l.ownerMarkers = existsSync(join(cacheDir, 'owners', `${runId}.json`)) ? 1 : 0;
  return l;
}
const total = (l: Leaks) => Object.values(l).reduce((a, b) => a + b, 0);

function journalLines(dir: string): { lines: string[]; torn: boolean } {
  const file = join(dir, 'samples.jsonl');
  if (!existsSync(file)) return { lines: [], torn: false };
  const text = readFileSync(file, 'utf8');
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  return { lines: parts.filter((l) => l.length > 0), torn: tail.length > 0 };
}

function bench(args: string[], timeoutMs: number) {
  return execa('node', [bin, ...args], { cwd: root, reject: false, timeout: timeoutMs, env: { CI: '1' }, all: true });
}

async function iterate(n: number, where: Where, signal: Signal, resultsRoot: string): Promise<Iteration> {
  const t0 = Date.now();
  const file = join(opts.out, 'scenarios', `${n}-${where}.yaml`);
  writeFileSync(file, scenarioFor(where, n));
  const it: Iteration = {
    n, where, signal, runId: null, delayS: null, exitCode: null, exitS: null, samplesBefore: 0, tornTail: false, leftBeforeGc: null,
    leaksAfterInterrupt: await leaks(null), resumed: false, resumeExit: null, completed: false, lostSamples: 0,
    leaksAfterResume: await leaks(null), wallS: 0, note: '',
  };
  const child = spawn('node', [bin, 'run', file, '--results', resultsRoot], { cwd: root, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 2) : null))));
  let done = false;
  void exited.then(() => (done = true));
  // Wait for the phase (at most 6 min), then a random moment inside it.
  const deadline = Date.now() + 360_000;
  let began: number | null = null;
  while (!done && Date.now() < deadline) {
    it.runId ??= /run (\S+) → /.exec(output)?.[1] ?? null;
    if (phaseBegan(where, output, it.runId)) {
      began = Date.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (began !== null) {
    const [lo, hi] = WINDOW[where];
    const wait = (lo + random() * (hi - lo)) * 1000;
    while (!done && Date.now() - began < wait) await new Promise((r) => setTimeout(r, 50));
  }
  it.runId ??= /run (\S+) → /.exec(output)?.[1] ?? null;
  if (!done) {
    it.delayS = began === null ? null : Math.round((Date.now() - began) / 100) / 10;
    const sent = Date.now();
    child.kill(signal);
    // A clean stop must come within 2 min (VMs are killed, containers removed); then it counts as hung.
    const timer = setTimeout(() => { it.note += 'did not exit within 120 s of the signal (SIGKILLed); '; child.kill('SIGKILL'); }, 120_000);
    it.exitCode = await exited;
    clearTimeout(timer);
    it.exitS = Math.round((Date.now() - sent) / 100) / 10;
  } else {
    it.exitCode = await exited;
    it.note += began === null ? 'the run ended before the phase began; ' : 'the run ended inside the window; ';
  }
  writeFileSync(join(opts.out, 'logs', `${n}-${where}-run.log`), output);
  const dir = it.runId ? join(resultsRoot, it.runId) : null;
  const before = dir ? journalLines(dir) : { lines: [], torn: false };
  it.samplesBefore = before.lines.length;
  it.tornTail = before.torn;
  if (signal === 'SIGKILL' && it.runId) {
    it.leftBeforeGc = await leaks(it.runId);
    const gc = await bench(['gc', '--run', it.runId], 180_000);
    writeFileSync(join(opts.out, 'logs', `${n}-${where}-gc.log`), gc.all ?? '');
    if (gc.exitCode !== 0) it.note += `gc exit ${gc.exitCode}; `;
  }
  it.leaksAfterInterrupt = await leaks(it.runId);
  if (dir && existsSync(join(dir, 'run.json'))) {
    const r = await bench(['run', '--resume', dir], 900_000);
    writeFileSync(join(opts.out, 'logs', `${n}-${where}-resume.log`), r.all ?? '');
    it.resumed = true;
    it.resumeExit = r.exitCode ?? null;
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { segments?: { status: string }[]; completed?: Record<string, number>; plan?: { steps?: number } };
    const steps = record.plan?.steps ?? -1;
    it.completed = record.segments?.at(-1)?.status === 'completed' && Object.keys(record.completed ?? {}).length === steps;
    const after = new Set(journalLines(dir).lines);
    it.lostSamples = before.lines.filter((l) => !after.has(l)).length;
  } else if (it.exitCode === 0) {
    it.completed = true;
  } else {
    it.note += 'no run.json to resume; ';
  }
  it.leaksAfterResume = await leaks(it.runId);
  it.wallS = Math.round((Date.now() - t0) / 1000);
  return it;
}

/** Rough wall time of one iteration here (run to the phase, the interrupt, the resume), to stay inside --minutes. */
const COST_S: Record<Where, number> = { build: 150, boot: 330, load: 110, density: 110 };

async function main(): Promise<void> {
  mkdirSync(join(opts.out, 'scenarios'), { recursive: true });
  mkdirSync(join(opts.out, 'logs'), { recursive: true });
  const resultsRoot = join(opts.out, 'runs');
  const artifactsBefore = new Set(existsSync(join(cacheDir, 'artifacts')) ? readdirSync(join(cacheDir, 'artifacts')) : []);
  const end = Date.now() + minutes * 60_000;
  const its: Iteration[] = [];
  process.stderr.write(`soak: ${minutes} min, seed ${opts.seed}, points ${wheres.join(',')}, signals ${signals.join(',')} → ${opts.out}\n`);
  let stop = false;
  process.on('SIGINT', () => {
    stop = true;
    process.stderr.write('soak: stopping after this iteration\n');
  });
  // Every point early on, then at random.
  const order = [...wheres].sort(() => random() - 0.5);
  for (let n = 1; !stop; n++) {
    const fits = wheres.filter((w) => Date.now() + COST_S[w] * 1000 < end);
    if (fits.length === 0) break;
    const where = order.length ? order.shift()! : pick(fits);
    if (!fits.includes(where)) continue;
    const signal = pick(signals);
    process.stderr.write(`soak: [${n}] ${where}, ${signal}…\n`);
    const it = await iterate(n, where, signal, resultsRoot);
    its.push(it);
    COST_S[where] = Math.max(it.wallS, Math.min(COST_S[where], it.wallS * 1.5)); // learn this host's pace
    process.stderr.write(`soak: [${n}] ${where} ${signal} at +${it.delayS ?? '-'} s → exit ${it.exitCode} in ${it.exitS ?? '-'} s; ${it.samplesBefore} samples on disk${it.tornTail ? ' (+ torn tail)' : ''}; ${it.leftBeforeGc ? `left by the dead harness ${total(it.leftBeforeGc)} (gc'd); ` : ''}leaked ${total(it.leaksAfterInterrupt)}; resumed ${it.resumed ? `exit ${it.resumeExit}` : 'no'}, completed ${it.completed}, lost ${it.lostSamples}, leaked after ${total(it.leaksAfterResume)} (${it.wallS} s)${it.note ? ` — ${it.note}` : ''}\n`);
    writeFileSync(join(opts.out, 'soak.json'), JSON.stringify({ seed: opts.seed, minutes, iterations: its }, null, 2) + '\n');
  }
  let removed = 0;
  if (!opts['keep-artifacts']) {
    // The build interrupts made artifacts of throwaway seeds: remove them (and their images), not the rest of the cache.
    for (const a of existsSync(join(cacheDir, 'artifacts')) ? readdirSync(join(cacheDir, 'artifacts')) : []) {
      if (artifactsBefore.has(a)) continue;
      rmSync(join(cacheDir, 'artifacts', a), { recursive: true, force: true });
      await docker.getImage(`vmbench/workload:${a.slice(0, 12)}`).remove().catch(() => undefined);
      removed++;
    }
  }
  const interrupted = its.filter((i) => i.delayS !== null);
  const sum = (f: (l: Leaks) => number) => its.reduce((a, i) => a + f(i.leaksAfterInterrupt) + f(i.leaksAfterResume), 0);
  const count = <K extends string>(key: (i: Iteration) => K) => Object.entries(interrupted.reduce<Record<string, number>>((m, i) => ({ ...m, [key(i)]: (m[key(i)] ?? 0) + 1 }), {})).map(([k, v]) => `${k} ${v}`).join(', ');
  const resumed = its.filter((i) => i.resumed);
  const lines = [
    `soak: ${((Date.now() - (end - minutes * 60_000)) / 60_000).toFixed(1)} min on ${hostname()}, seed ${opts.seed}`,
    `runs                     ${its.length}`,
    `interrupts               ${interrupted.length} (${count((i) => i.signal)}; ${count((i) => i.where)})`,
    `  exit after the signal  ${interrupted.length ? `median ${median(interrupted.map((i) => i.exitS ?? 0)).toFixed(1)} s, max ${Math.max(...interrupted.map((i) => i.exitS ?? 0)).toFixed(1)} s` : '-'}`,
    `resumed                  ${resumed.length}, completed ${resumed.filter((i) => i.completed).length}${resumed.some((i) => i.resumeExit !== 0) ? ` (resume exits: ${resumed.map((i) => i.resumeExit).join(',')})` : ''}`,
    `samples on disk at the interrupts  ${its.reduce((a, i) => a + i.samplesBefore, 0)} (${its.filter((i) => i.tornTail).length} torn tails)`,
    `SIGKILLs: left behind, for gc  ${its.filter((i) => i.leftBeforeGc).map((i) => `${total(i.leftBeforeGc!)}`).join(', ') || '-'} (resources per SIGKILLed run before bench gc)`,
    `lost samples             ${its.reduce((a, i) => a + i.lostSamples, 0)}`,
    `leaked containers        ${sum((l) => l.containers)}`,
    `leaked qemu processes    ${sum((l) => l.qemu)}`,
    `leaked other processes   ${sum((l) => l.processes)}`,
    `leaked overlays          ${sum((l) => l.overlays)}`,
    `leaked scratch dirs      ${sum((l) => l.scratchDirs)}`,
    `leaked owner markers     ${sum((l) => l.ownerMarkers)}`,
    `leaked temp dirs         ${sum((l) => l.tempDirs)}`,
    `throwaway artifacts removed  ${removed}`,
    `details: ${join(opts.out, 'soak.json')}, logs: ${join(opts.out, 'logs')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeFileSync(join(opts.out, 'soak.txt'), lines.join('\n') + '\n');
  const bad = sum(total) + its.reduce((a, i) => a + i.lostSamples, 0) + resumed.filter((i) => !i.completed).length;
  process.exit(bad === 0 ? 0 : 1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : 0;
}

await main();
