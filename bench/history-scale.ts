/**
 * How `bench history`, `bench report` and `bench compare` scale with the
 * history: generates N synthetic nightly runs (default 1,000; each 10 metrics
 * × 3 substrates × 10 samples, with a step change and a slow drift in some
 * series so change-point detection has work to do) into a temporary
 * directory, then times the built CLI on them with /usr/bin/time -v and
 * prints wall time and peak memory (maximum resident set size) of each.
 * The history must finish in < 10 s and < 1 GiB; the script exits 1 if not.
 *
 *   npm run build && node --import tsx bench/history-scale.ts [--runs 1000] [--keep]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunRecord } from '../src/results/run-record.js';
import type { Sample, SampleParams } from '../src/results/sample.js';
import { describeSamples } from '../src/stats/describe.js';
import { seededRandom } from '../src/stats/random.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, keep: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (the benchmark times the built CLI, not the TypeScript loader)`);
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (Debian: apt-get install time)');

const tmp = mkdtempSync(join(tmpdir(), 'vmbench-history-scale-'));
const results = join(tmp, 'results');
const rand = seededRandom(42);
const noise = (centre: number, spread: number) => centre * (1 + (rand() * 2 - 1) * spread);

const PLATFORMS = [
  { platform: 'container', kind: 'docker' },
  { platform: 'vm', kind: 'qemu' },
  { platform: 'vagrant', kind: 'vagrant' },
] as const;
/** Ten metrics, with each substrate's centre; `shift` adds a change at run index (step) or from it on (drift). */
const METRICS: Array<{ metric: string; params?: SampleParams; unit: Sample['unit']; centre: [number, number, number]; spread: number; step?: { at: number; by: number; platform: number }; drift?: { from: number; perRun: number; platform: number } }> = [
  { metric: 'startup', unit: 'ms', centre: [420, 24_000, 26_000], spread: 0.06, step: { at: 0.6, by: 0.15, platform: 1 } },
  { metric: 'cold_start', unit: 'ms', centre: [440, 24_500, 27_000], spread: 0.06 },
  { metric: 'phase_model_loaded', unit: 'ms', centre: [300, 13_500, 14_000], spread: 0.05 },
  { metric: 'memory_host', unit: 'MiB', centre: [272, 551, 531], spread: 0.01, drift: { from: 0.3, perRun: 0.0003, platform: 0 } },
  { metric: 'memory_workload_pss', unit: 'MiB', centre: [257, 244, 240], spread: 0.01 },
  { metric: 'network_rtt_p50', unit: 'ms', centre: [0.09, 0.9, 1.4], spread: 0.1 },
  { metric: 'network_rtt_p99', unit: 'ms', centre: [1.0, 12, 18], spread: 0.2 },
  { metric: 'snapshot_restore', unit: 'ms', centre: [290, 6400, 7000], spread: 0.05, step: { at: 0.8, by: -0.2, platform: 0 } },
  { metric: 'throughput', params: { connections: 1 }, unit: 'req/s', centre: [96, 0.16, 0.16], spread: 0.03 },
  { metric: 'latency_p99', params: { connections: 1 }, unit: 'ms', centre: [14, 6300, 6400], spread: 0.05 },
];

const SCENARIO = {
  name: 'nightly', workload: { model: 'resnet18', batch: 1, threads: 1, device: 'cpu', seed: 0 },
  platforms: [{ name: 'container', kind: 'docker', cpus: 1, memory: 2 ** 30, network: 'host' }, { name: 'vm', kind: 'qemu', cpus: 1, memory: 2 ** 30, accel: 'tcg', machine: 'pc', boot_timeout: 120_000 }, { name: 'vagrant', kind: 'vagrant', cpus: 1, memory: 2 ** 30, provider: 'libvirt', accel: 'tcg', boot_timeout: 300_000, tcg_tb_size: 64 * 2 ** 20 }],
  measurements: { startup: { repetitions: 10, warmup: 0, timeout: 300_000 } },
  runner: { order: 'interleaved', seed: 1, poll_interval: 10 },
  report: { formats: ['json'] },
};
const ENVIRONMENT: RunRecord['environment'] = {
  hostname: 'nightly-runner', kernel: '6.18.44-fc-v657', os: 'Debian GNU/Linux 12 (bookworm)', cpuModel: 'AMD EPYC', cores: 2, memoryBytes: 25_276_510_208,
  node: 'v20.20.2', vmbenchVersion: '0.1.0', git: { commit: null, dirty: null }, bootId: null, rootfsDigest: null, artifactId: null,
  platforms: { container: { kind: 'docker', network: 'host', cpus: 1 }, vm: { kind: 'qemu', accel: 'tcg', machine: 'pc', cpus: 1 }, vagrant: { kind: 'vagrant', accel: 'tcg', cpus: 1 } },
};

const t0 = performance.now();
const day = 86_400_000;
const first = Date.parse('2024-03-01T02:00:00.000Z');
const ids: string[] = [];
for (let r = 0; r < RUNS; r++) {
  const started = first + r * day;
  const runId = `${new Date(started).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-nightly-${r.toString(16).padStart(4, '0')}`;
  ids.push(runId);
  const samples: Sample[] = [];
  for (const m of METRICS) {
    PLATFORMS.forEach((p, i) => {
      let centre = m.centre[i]!;
      if (m.step && m.step.platform === i && r >= m.step.at * RUNS) centre *= 1 + m.step.by;
      if (m.drift && m.drift.platform === i && r >= m.drift.from * RUNS) centre *= 1 + m.drift.perRun * (r - m.drift.from * RUNS);
      for (let rep = 0; rep < 10; rep++) {
        samples.push({
          metric: m.metric, ...(m.params ? { params: m.params } : {}), value: Number(noise(centre, m.spread).toPrecision(6)), unit: m.unit, platform: p.platform, kind: p.kind,
          rep, warmup: false, timestamp: started + samples.length * 1000,
          // Per-sample metadata of the size real samples carry (ids, digests, timings).
          metadata: { instance: `vmbench-${runId}-${p.platform}-${rep}`, rootfs_digest_inside: 'fc3bb36b4f2d936a'.repeat(4), created_ms: 10.2, started_ms: 66.1, polls: 31, synthetic: true },
        });
      }
    });
  }
  // Summaries as the runner stores them; a cheap bootstrap (200 resamples) keeps generating 1,000 runs fast.
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.metric}\u0000${JSON.stringify(s.params ?? {})}\u0000${s.platform}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const summaries = [...groups.values()].map((g) => ({
    metric: g[0]!.params ? `${g[0]!.metric}@c=${String(g[0]!.params.connections)}` : g[0]!.metric,
    base: g[0]!.metric, ...(g[0]!.params ? { params: g[0]!.params } : {}), platform: g[0]!.platform, kind: g[0]!.kind, unit: g[0]!.unit,
    summary: describeSamples(g.map((s) => s.value), { seed: 1, iterations: 200 }),
  }));
  const record: RunRecord = {
    schemaVersion: 2, runId, status: 'completed', scenarioFile: 'scenarios/nightly.yaml', scenario: SCENARIO, startedAt: new Date(started).toISOString(), finishedAt: new Date(started + 600_000).toISOString(),
    environment: ENVIRONMENT, artifact: null, plan: { order: 'interleaved', seed: 1, pollIntervalMs: 10, steps: 30 }, identity: null, calibration: null, summaries, reference: 'container', ratios: [], warnings: [], error: null,
  };
  const dir = join(results, runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
  writeFileSync(join(dir, 'samples.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
}
const bytes = Number(execFileSync('du', ['-sb', results]).toString().split('\t')[0]);
process.stdout.write(`generated ${RUNS} runs × ${METRICS.length} metrics × ${PLATFORMS.length} substrates × 10 samples (${(RUNS * METRICS.length * PLATFORMS.length * 10).toLocaleString('en')} samples, ${(bytes / 2 ** 20).toFixed(0)} MiB on disk) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${results}\n\n`);

interface Timed {
  what: string;
  seconds: number;
  peakMiB: number;
  exit: number;
}

/** Runs the built CLI under /usr/bin/time -v: wall clock and maximum resident set size as the kernel counted them. */
function timed(what: string, args: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, ...args], { cwd: tmp, env: { ...process.env, CI: '1', NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!wall || !rss) throw new Error(`${what}: no /usr/bin/time figures in its stderr:\n${r.stderr.slice(-2000)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const exit = r.status ?? -1;
  if (exit !== 0 && !(what.startsWith('bench compare') && exit === 1)) process.stdout.write(`${what}: exit ${exit}\n${r.stderr.split('\n').filter((l) => !/^\t/.test(l)).slice(-8).join('\n')}\n`);
  return { what, seconds, peakMiB: Number(rss[1]) / 1024, exit };
}

const out = join(tmp, 'out');
const last = ids.at(-1)!;
const rows: Timed[] = [
  timed(`bench history (${RUNS} runs, charts on)`, ['history', results, '--out', join(out, 'history')]),
  timed(`bench history (${RUNS} runs, --no-charts)`, ['history', results, '--no-charts']),
  timed('bench report (the latest run)', ['report', join(results, last), '--out', join(out, 'report-1')]),
  timed('bench report (the latest 10 runs side by side)', ['report', ...ids.slice(-10).map((id) => join(results, id)), '--out', join(out, 'report-10'), '--formats', 'html,decision,exports']),
  timed('bench compare (first run vs latest)', ['compare', join(results, ids[0]!), join(results, last)]),
];
const width = Math.max(...rows.map((r) => r.what.length));
process.stdout.write(`${'command'.padEnd(width)}  wall time  peak memory (max RSS)\n`);
for (const r of rows) process.stdout.write(`${r.what.padEnd(width)}  ${`${r.seconds.toFixed(2)} s`.padStart(9)}  ${`${r.peakMiB.toFixed(0)} MiB`.padStart(9)}${r.exit === 0 || (r.what.startsWith('bench compare') && r.exit === 1) ? '' : `  (exit ${r.exit})`}\n`);
const history = rows[0]!;
const ok = history.seconds < 10 && history.peakMiB < 1024 && history.exit === 0;
process.stdout.write(`\nbench history over ${RUNS} runs: ${history.seconds.toFixed(2)} s, ${history.peakMiB.toFixed(0)} MiB peak — ${ok ? 'within' : 'NOT within'} the 10 s / 1 GiB target\n`);
if (!values.keep) rmSync(tmp, { recursive: true, force: true });
else process.stdout.write(`kept ${tmp}\n`);
process.exitCode = ok ? 0 : 1;
