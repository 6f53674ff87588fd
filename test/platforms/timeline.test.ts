import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phaseSampleValues } from '../../src/measure/phases.js';
import { PHASE_NAMES, firstPhaseLines, timelineFromArrivals, timelineFromHostEpochLines, type PhaseTimeline } from '../../src/platforms/timeline.js';
import { parsePhaseLines as parseWithRaw, type PhaseLine } from '../../src/workload/phase-lines.js';
import { demuxDockerLogs } from '../../src/platforms/docker/log-phases.js';
import { ConsolePhaseRecorder } from '../../src/platforms/linux-guest/console-phases.js';
import { ConsoleTail } from '../../src/platforms/linux-guest/console.js';

/**
 * Captured `docker logs` body (non-TTY, multiplexed) of a resnet18 container,
 * host network, launched at launchEpochMs 1795633800022.
 */
const DOCKER_LOGS_B64 =
  'AQAAAAAAACpWTUJFTkNIX1BIQVNFIHByb2Nlc3Nfc3RhcnQgMTc5NTYzMzgwMDE1MQoBAAAAAAAAJlZNQkVOQ0hfUEhBU0UgbGlzdGVuaW5nIDE3OTU2MzM4MDAxODcKAgAAAAAAAFx2bWJlbmNoLXNlcnZlcjogbGlzdGVuaW5nIG9uIDEyNy4wLjAuMToxODk5OTsgbW9kZWwgbW9kZWwgZnJvbSAvYXBwL21vZGVsLm9ubngsIDEgdGhyZWFkKHMpCgIAAAAAAACzG1swOzkzbTIwMjYtMTEtMjUgMTk6MTA6MDAuMjY2MjY3NjI1IFtXOm9ubnhydW50aW1lOm9ubnhydW50aW1lLW5vZGUsIHRlbGVtZXRyeS5jYzo0NzAgSW5pdGlhbGl6ZV0gTm8gcmVhZGFibGUgQ0EgYnVuZGxlIHdhcyBmb3VuZDsgdGVsZW1ldHJ5IEhUVFBTIHVwbG9hZHMgd2lsbCBiZSB1bmF2YWlsYWJsZRtbbQoBAAAAAAAAKVZNQkVOQ0hfUEhBU0UgbW9kZWxfbG9hZGVkIDE3OTU2MzM4MDA0NDMKAgAAAAAAAGx2bWJlbmNoLXNlcnZlcjogbW9kZWwgbG9hZGVkIGluIDE5NCBtczogaW5wdXRzIGlucHV0IGZsb2F0MzIgW04sMywyMjQsMjI0XTsgb3V0cHV0cyBvdXRwdXQgZmxvYXQzMiBbTiwxMDAwXQoCAAAAAAAAK3ZtYmVuY2gtc2VydmVyOiB3YXJtLXVwIGluZmVyZW5jZTogMjIuMCBtcwoBAAAAAAAAIlZNQkVOQ0hfUEhBU0UgcmVhZHkgMTc5NTYzMzgwMDQ2Nwo=';
const DOCKER_LAUNCH_EPOCH = 1795633800022;

/** Captured serial console of a TCG VM (resnet18, 1 vCPU), CRLF as QEMU writes it. */
const VM_CONSOLE = [
  'VMBENCH_PHASE initramfs 1.54',
  'VMBENCH_PHASE init 2.12',
  'VMBENCH_PHASE network 2.20',
  'VMBENCH_PHASE sshd 2.33',
  'VMBENCH_PHASE process_start 1795633825034',
  'VMBENCH_PHASE listening 1795633826371',
  'vmbench-server: listening on 0.0.0.0:8080; model model from /app/model.onnx, 1 thread(s)',
  '\x1b[0;93m2026-11-25 19:10:31.480662602 [W:onnxruntime:onnxruntime-node, telemetry.cc:470 Initialize] No readable CA bundle was found; telemetry HTTPS uploads will be unavailable\x1b[m',
  'VMBENCH_PHASE model_loaded 1795633838177',
  'vmbench-server: model loaded in 8131 ms: inputs input float32 [N,3,224,224]; outputs output float32 [N,1000]',
  'vmbench-server: warm-up inference: 15797.3 ms',
  'VMBENCH_PHASE ready 1795633854314',
].map((l) => `${l}\r\n`).join('');
/** Harness arrival offsets (ms after launch) of those lines in that run (init and the server phases as measured; initramfs/network/sshd illustrative). */
const VM_ARRIVALS: Record<string, number> = {
  initramfs: 2150.4,
  init: 2711.2,
  network: 2731.0,
  sshd: 2731.0,
  process_start: 4339.2,
  listening: 4519.2,
  model_loaded: 16335.4,
  ready: 32474.4,
};

/** Build a multiplexed docker logs frame. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** The parsed lines without the raw text (what the timelines use). */
const parsePhaseLines = (text: string | readonly string[]): PhaseLine[] => parseWithRaw(text).map(({ raw: _raw, ...l }) => l);

/** Present phases that go backwards in phase order. */
function phaseOrderViolations(t: PhaseTimeline): string[] {
  const present = PHASE_NAMES.filter((n) => t.phases[n] !== undefined);
  return present.slice(1).flatMap((n, i) => (t.phases[n]! < t.phases[present[i]!]! ? [`${present[i]}>${n}`] : []));
}

const dir = mkdtempSync(join(tmpdir(), 'vmbench-phases-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsePhaseLines / conversions', () => {
  it('parses server (epoch ms) and boot (uptime s) lines, ignoring the rest', () => {
    const lines = parsePhaseLines(VM_CONSOLE);
    expect(lines.map((l) => l.phase)).toEqual([
      'initramfs',
      'init',
      'network',
      'sshd',
      'process_start',
      'listening',
      'model_loaded',
      'ready',
    ]);
    expect(lines[1]).toEqual({ phase: 'init', uptimeS: 2.12 });
    expect(lines[7]).toEqual({ phase: 'ready', epochMs: 1795633854314 });
    expect(parsePhaseLines(['noise', '[  1.0] kernel VMBENCH_PHASE listening 1795633826371 tail'])).toEqual([
      { phase: 'listening', epochMs: 1795633826371 },
    ]);
  });

  it('keeps the first line of a phase and reports repeats; earliest arrival wins when timed', () => {
    const lines: PhaseLine[] = [
      { phase: 'ready', epochMs: 200 },
      { phase: 'listening', epochMs: 100 },
      { phase: 'ready', epochMs: 900 },
    ];
    const r = firstPhaseLines(lines);
    expect(r.byPhase.get('ready')?.epochMs).toBe(200);
    expect(r.duplicates).toEqual(['ready']);
    const timed = firstPhaseLines([
      { phase: 'ready', atMono: 50 },
      { phase: 'ready', atMono: 40 },
    ]);
    expect(timed.byPhase.get('ready')?.atMono).toBe(40);
  });
});

describe('demuxDockerLogs', () => {
  it('splits a captured multiplexed body into stdout and stderr', () => {
    const { stdout, stderr } = demuxDockerLogs(Buffer.from(DOCKER_LOGS_B64, 'base64'));
    expect(parsePhaseLines(stdout).map((l) => l.phase)).toEqual(['process_start', 'listening', 'model_loaded', 'ready']);
    expect(stdout).not.toContain('vmbench-server:');
    expect(stderr).toContain('vmbench-server: listening on 127.0.0.1');
    expect(parsePhaseLines(stderr)).toEqual([]);
  });

  it('keeps a line split across frames whole, tolerates a truncated last frame, and passes TTY text through', () => {
    const buf = Buffer.concat([frame(1, 'VMBENCH_PHASE rea'), frame(2, 'err\n'), frame(1, 'dy 1795633800467\n')]);
    expect(demuxDockerLogs(buf)).toEqual({ stdout: 'VMBENCH_PHASE ready 1795633800467\n', stderr: 'err\n' });
    const cut = frame(1, 'VMBENCH_PHASE listening 1795633800187\n').subarray(0, 8 + 13);
    expect(demuxDockerLogs(cut).stdout).toBe('VMBENCH_PHASE');
    expect(demuxDockerLogs(Buffer.from('VMBENCH_PHASE ready 1\r\n')).stdout).toBe('VMBENCH_PHASE ready 1\r\n');
    expect(demuxDockerLogs(Buffer.alloc(0))).toEqual({ stdout: '', stderr: '' });
  });
});

describe('container timeline (host epoch)', () => {
  const lc = { launch: 5000, launchEpochMs: DOCKER_LAUNCH_EPOCH, created: 5021.3, started: 5115.7 };

  it('captured logs: lifecycle + server phases as offsets, no kernel_init, ±1 ms', () => {
    const { stdout } = demuxDockerLogs(Buffer.from(DOCKER_LOGS_B64, 'base64'));
    const t = timelineFromHostEpochLines(lc, parsePhaseLines(stdout), 'docker-logs:server-epoch');
    expect(t.phases).toEqual({
      created: expect.closeTo(21.3, 6),
      started: expect.closeTo(115.7, 6),
      process_start: 129,
      listening: 165,
      model_loaded: 421,
      ready: 445,
    });
    expect('kernel_init' in t.phases).toBe(false);
    expect(t.resolutionMs).toBe(1);
    expect(t.guestUptimeS).toBeUndefined();
    expect(t.reportedEpochMs?.ready).toBe(1795633800467);
    expect(t.duplicates).toBeUndefined();
    expect(phaseOrderViolations(t)).toEqual([]);
  });

  it('absent phases stay absent (server still loading; not yet created)', () => {
    const t = timelineFromHostEpochLines(
      { launch: 0, launchEpochMs: 1000 },
      parsePhaseLines('VMBENCH_PHASE process_start 1100\nVMBENCH_PHASE listening 1150\n'),
      'x',
    );
    expect(t.phases).toEqual({ process_start: 100, listening: 150 });
    expect(Object.keys(t.phases)).toEqual(['process_start', 'listening']);
  });

  it('out-of-order and duplicate lines: keys in phase order, first line per phase; boot phases ignored', () => {
    const text = [
      'VMBENCH_PHASE ready 1500',
      'VMBENCH_PHASE process_start 1100',
      'VMBENCH_PHASE init 2.5', // not a container phase
      'VMBENCH_PHASE listening 1200',
      'VMBENCH_PHASE process_start 1300', // restarted server
      'VMBENCH_PHASE model_loaded 1400',
    ].join('\n');
    const t = timelineFromHostEpochLines({ launch: 0, launchEpochMs: 1000, created: 10, started: 50 }, parsePhaseLines(text), 'x');
    expect(Object.keys(t.phases)).toEqual(['created', 'started', 'process_start', 'listening', 'model_loaded', 'ready']);
    expect(t.phases.process_start).toBe(100);
    expect(t.duplicates).toEqual(['process_start']);
    expect('kernel_init' in t.phases).toBe(false);
  });

  it('the server may start before the start call returns: reported, not clamped', () => {
    const t = timelineFromHostEpochLines(
      { launch: 0, launchEpochMs: 1000, created: 20, started: 116 },
      parsePhaseLines('VMBENCH_PHASE process_start 1115\nVMBENCH_PHASE ready 1400'),
      'x',
    );
    expect(t.phases.process_start! - t.phases.started!).toBe(-1);
    expect(phaseOrderViolations(t)).toEqual(['started>process_start']);
  });
});

describe('VM timeline (console arrival)', () => {
  const lc = { launch: 100_000, launchEpochMs: 1795633821000, created: 100_031.8, started: 100_079.9 };
  const timedLines = (): PhaseLine[] =>
    parsePhaseLines(VM_CONSOLE).map((l) => ({ ...l, atMono: lc.launch + VM_ARRIVALS[l.phase]! }));

  it('captured console: phases are arrival offsets, init → kernel_init, guest uptimes as metadata', () => {
    const t = timelineFromArrivals(lc, timedLines(), 20, 'qemu-console:arrival');
    expect(Object.keys(t.phases)).toEqual(['created', 'started', 'kernel_init', 'process_start', 'listening', 'model_loaded', 'ready']);
    expect(t.phases.kernel_init).toBeCloseTo(2711.2, 6);
    expect(t.phases.ready).toBeCloseTo(32474.4, 6);
    // The guest's epoch values are not used for offsets (its clock is ~4 s away here).
    expect(t.phases.process_start).toBeCloseTo(4339.2, 6);
    expect(t.guestUptimeS).toEqual({ initramfs: 1.54, init: 2.12, network: 2.2, sshd: 2.33 });
    expect(t.reportedEpochMs?.process_start).toBe(1795633825034);
    expect(t.resolutionMs).toBe(20);
    // exec estimate: arrival(listening) − guest (listening − process_start) = 4519.2 − 1337
    expect(t.processStartEstimateMs).toBeCloseTo(3182.2, 6);
    expect(phaseOrderViolations(t)).toEqual([]);
  });

  it('lines without an arrival time are ignored; a phase not yet seen is absent', () => {
    const lines = timedLines().filter((l) => l.phase !== 'ready');
    lines.push({ phase: 'ready', epochMs: 1795633854314 }); // parsed from a file, never seen arriving
    const t = timelineFromArrivals(lc, lines, 20, 'x');
    expect('ready' in t.phases).toBe(false);
    expect(phaseSampleValues(t).map((s) => s.metric)).not.toContain('phase_ready');
  });

  it('duplicate lines (a restarted server) keep the earliest arrival; lines arriving in one poll share a time', () => {
    const lines = timedLines();
    lines.push({ phase: 'process_start', epochMs: 1795633860000, atMono: lc.launch + 40_000 });
    const t = timelineFromArrivals(lc, lines, 20, 'x');
    expect(t.phases.process_start).toBeCloseTo(4339.2, 6);
    expect(t.duplicates).toEqual(['process_start']);
    expect(t.guestUptimeS?.network).toBe(2.2);
  });

  it('no console lines yet: only the lifecycle phases', () => {
    const t = timelineFromArrivals(lc, [], 20, 'x');
    expect(t.phases).toEqual({ created: expect.any(Number), started: expect.any(Number) });
    expect(t.guestUptimeS).toEqual({});
    expect(t.processStartEstimateMs).toBeUndefined();
  });
});

describe('phaseSampleValues', () => {
  const vm: PhaseTimeline = {
    phases: { created: 32, started: 80, kernel_init: 2711, process_start: 4339, listening: 4519, model_loaded: 16335, ready: 32474 },
    resolutionMs: 20,
    source: 'qemu-console:arrival',
    guestUptimeS: { initramfs: 1.54, init: 2.12 },
    processStartEstimateMs: 3182,
  };
  const container: PhaseTimeline = {
    phases: { created: 21, started: 116, process_start: 118, listening: 157, model_loaded: 409, ready: 432 },
    resolutionMs: 1,
    source: 'docker-logs:server-epoch',
  };

  it('one sample per present phase, with source, resolution and guest uptimes', () => {
    const s = phaseSampleValues(vm);
    expect(s.map((x) => x.metric)).toEqual([
      'phase_created',
      'phase_started',
      'phase_kernel_init',
      'phase_process_start',
      'phase_listening',
      'phase_model_loaded',
      'phase_ready',
    ]);
    expect(s.every((x) => x.unit === 'ms')).toBe(true);
    expect(s[2]).toEqual({
      metric: 'phase_kernel_init',
      value: 2711,
      unit: 'ms',
      metadata: {
        phase_source: 'qemu-console:arrival',
        phase_resolution_ms: 20,
        guest_initramfs_uptime_s: 1.54,
        guest_init_uptime_s: 2.12,
      },
    });
    expect(s[3]!.metadata.process_start_guest_interval_estimate_ms).toBe(3182);
    const c = phaseSampleValues(container);
    expect(c.map((x) => x.metric)).not.toContain('phase_kernel_init');
    expect(c).toHaveLength(6);
    expect(c[0]!.metadata).toEqual({ phase_source: 'docker-logs:server-epoch', phase_resolution_ms: 1 });
  });
});

describe('ConsolePhaseRecorder (arrival times from a growing console file)', () => {
  it('timestamps each phase line when the tail reads it and follows until ready', async () => {
    const f = join(dir, 'console.log');
    writeFileSync(f, 'SeaBIOS\r\nVMBENCH_PHASE initramfs 0.50\r\n');
    const tail = new ConsoleTail(f);
    const rec = new ConsolePhaseRecorder(tail);
    const t0 = performance.now();
    await tail.poll(); // as the boot wait does
    expect(rec.lines).toEqual([{ phase: 'initramfs', uptimeS: 0.5, atMono: expect.any(Number) }]);
    expect(rec.lines[0]!.atMono!).toBeGreaterThanOrEqual(t0);

    let done = false;
    rec.follow(5, () => done);
    expect(rec.following).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    const written = performance.now();
    appendFileSync(f, 'VMBENCH_PHASE init 0.9\r\nVMBENCH_PHASE process_start 17956338');
    expect(await rec.waitFor('ready', 100)).toBe(false); // nothing yet; still following
    appendFileSync(f, '25034\r\nVMBENCH_PHASE ready 1795633854314\r\n');
    expect(await rec.waitFor('ready', 2000)).toBe(true);
    const init = rec.lines.find((l) => l.phase === 'init')!;
    const ready = rec.lines.find((l) => l.phase === 'ready')!;
    expect(init.atMono! - written).toBeGreaterThanOrEqual(0);
    expect(init.atMono! - written).toBeLessThan(50); // a 5 ms poll, with slack for a busy CI box
    // A line completed in a later read is timed when its end arrives.
    expect(rec.lines.find((l) => l.phase === 'process_start')).toMatchObject({ epochMs: 1795633825034 });
    expect(ready.atMono!).toBeGreaterThanOrEqual(init.atMono!);
    // ready seen: the follower stops by itself.
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.following).toBe(false);
    expect(await rec.waitFor('listening', 10)).toBe(false);
    done = true;
  });

  it('stop() ends the follower promptly', async () => {
    const f = join(dir, 'console2.log');
    writeFileSync(f, '');
    const rec = new ConsolePhaseRecorder(new ConsoleTail(f));
    rec.follow(1000, () => false);
    const t0 = performance.now();
    await rec.stop();
    expect(performance.now() - t0).toBeLessThan(200);
    expect(rec.following).toBe(false);
  });
});
