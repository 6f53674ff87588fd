import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import { writeCpio } from '../linux-guest/cpio.js';
import { type Accel, hostCpuKhz, type Machine } from './args.js';
import { bootId, findQemuTools, kvmAccessProblem } from './tools.js';
import { VM_NAME_PREFIX } from './procs.js';

/**
 * Which accelerator actually works here, found by trying: /dev/kvm can exist
 * and still be useless (on this machine kind a stock kernel spins forever under
 * KVM and `-cpu host`/`-cpu max` abort on an MSR). A probe boots the artifact's
 * kernel under KVM with a tiny busybox initramfs whose /init prints a marker and
 * powers off; seeing the marker means KVM works. The answer is cached per
 * kernel, QEMU version and host boot.
 */

export const PROBE_MARKER = 'VMBENCH_PROBE_OK';
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** CPU models tried under KVM, best first ('host' is known to abort on some hosts; 'max' is its near twin). */
export const KVM_CPU_CANDIDATES = ['max', 'qemu64'] as const;
const CACHE_FILE = 'accel-probe.json';

// ---------------------------------------------------------------------------
// Probe initramfs (the same cpio writer as the artifact's)

export function probeInitScript(marker = PROBE_MARKER): string {
  return [
    '#!/bin/busybox sh',
    `/bin/busybox echo "${marker}"`,
    '/bin/busybox poweroff -f',
    '/bin/busybox sleep 5',
    '',
  ].join('\n');
}

/** An initramfs holding a static busybox and an /init that prints the marker and powers off. */
export async function buildProbeInitramfs(busybox = '/bin/busybox'): Promise<Buffer> {
  let bb: Buffer;
  try {
    bb = await readFile(busybox);
  } catch (err) {
    throw new BenchError('unsupported', `cannot read ${busybox} for the KVM probe: ${messageOf(err)}`, {
      hint: 'run ./scripts/setup.sh (installs busybox-static)',
      cause: err,
    });
  }
  return writeCpio([
    { type: 'dir', path: 'bin', mode: 0o755 },
    { type: 'dir', path: 'dev', mode: 0o755 },
    { type: 'char', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    { type: 'dir', path: 'proc', mode: 0o755 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, data: bb },
    { type: 'file', path: 'init', mode: 0o755, data: Buffer.from(probeInitScript(), 'utf8') },
  ]);
}

// ---------------------------------------------------------------------------
// Probe

export type ProbeOutcome = 'ok' | 'exited' | 'timeout' | 'spawn-failed';

export interface ProbeAttempt {
  cpu: string;
  outcome: ProbeOutcome;
  durationMs: number;
  /** What happened, for people. */
  detail: string;
}

export interface AccelProbeResult {
  accel: Accel;
  /** CPU model that worked under KVM ('max' under TCG). */
  cpu: string;
  reason: string;
  machine: Machine;
  durationMs: number;
  probedAt: string;
  cached: boolean;
  attempts: ProbeAttempt[];
}

export interface ProbeOptions {
  kernel: string;
  cacheDir: string;
  /** Machine the VMs will use; default microvm (what `auto` picks under KVM). */
  machine?: Machine;
  timeoutMs?: number;
  force?: boolean;
  qemuSystem?: string;
  qemuVersion?: string;
  busybox?: string;
  log?: (line: string) => void;
}

interface CacheFile {
  version: 1;
  entries: Record<string, { key: Record<string, string | number>; result: Omit<AccelProbeResult, 'cached'> }>;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
    if (parsed && parsed.version === 1 && typeof parsed.entries === 'object') return parsed;
  } catch {
    /* missing or corrupt: start over */
  }
  return { version: 1, entries: {} };
}

/** One KVM boot of the probe initramfs with one CPU model. */
async function probeOnce(
  qemu: string,
  kernel: string,
  initrd: string,
  machine: Machine,
  cpu: string,
  timeoutMs: number,
): Promise<ProbeAttempt> {
  const t0 = performance.now();
  const khz = hostCpuKhz();
  const append = ['console=ttyS0', 'panic=-1', 'loglevel=4'];
  if (machine === 'microvm' && khz) append.push(`tsc_early_khz=${khz}`);
  const args = [
    '-name',
    `${VM_NAME_PREFIX}accelprobe-${process.pid}`,
    '-M',
    machine,
    '-accel',
    'kvm',
    '-cpu',
    cpu,
    '-smp',
    '1',
    '-m',
    '128',
    '-display',
    'none',
    '-no-reboot',
    '-nodefaults',
    '-no-user-config',
    '-serial',
    'stdio',
    '-kernel',
    kernel,
    '-initrd',
    initrd,
    '-append',
    append.join(' '),
  ];
  let out = '';
  let sawMarker = false;
  const child = execa(qemu, args, {
    reject: false,
    stdin: 'ignore',
    buffer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const onOut = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
    if (!sawMarker && out.includes(PROBE_MARKER)) {
      sawMarker = true;
      // It powers itself off; make sure it does not linger.
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }
  };
  let err = '';
  child.stdout?.on('data', onOut);
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    if (err.length > 16 * 1024) err = err.slice(-8 * 1024);
  });
  const res = await child;
  const durationMs = performance.now() - t0;
  if (sawMarker) return { cpu, outcome: 'ok', durationMs, detail: `marker seen after ${(durationMs / 1000).toFixed(1)} s` };
  const lines = out.split(/\r?\n/).filter((l) => l.trim());
  const printed = lines.length ? `guest printed ${lines.length} line(s), last: ${lines.at(-1)!.trim().slice(0, 160)}` : 'guest printed nothing';
  const errLine = err.split('\n').filter((l) => l.trim()).at(-1)?.trim();
  if (res.failed && 'code' in res && res.code === 'ENOENT') {
    return { cpu, outcome: 'spawn-failed', durationMs, detail: `cannot run ${qemu}` };
  }
  if (res.timedOut) {
    return { cpu, outcome: 'timeout', durationMs, detail: `timed out after ${(timeoutMs / 1000).toFixed(0)} s: ${printed}` };
  }
  const how = res.signal ? `killed by ${res.signal}` : `exit code ${res.exitCode}`;
  return { cpu, outcome: 'exited', durationMs, detail: `qemu exited (${how}) without the marker${errLine ? `: ${errLine.slice(0, 200)}` : ''}; ${printed}` };
}

/**
 * Try KVM (cached per kernel sha256+size, QEMU version, machine and boot_id).
 * Returns accel 'kvm' with the working CPU model, or 'tcg' with the reason.
 */
export async function probeAccelerator(opts: ProbeOptions): Promise<AccelProbeResult> {
  const machine = opts.machine ?? 'microvm';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const t0 = performance.now();
  const kvmProblem = await kvmAccessProblem();
  if (kvmProblem) {
    return {
      accel: 'tcg',
      cpu: 'max',
      reason: kvmProblem,
      machine,
      durationMs: performance.now() - t0,
      probedAt: new Date().toISOString(),
      cached: false,
      attempts: [],
    };
  }
  let qemuSystem = opts.qemuSystem;
  let qemuVersion = opts.qemuVersion;
  if (!qemuSystem || !qemuVersion) {
    const tools = await findQemuTools();
    qemuSystem ??= tools.qemuSystem;
    qemuVersion ??= tools.versionLine;
  }
  let kst;
  try {
    kst = await stat(opts.kernel);
  } catch (err) {
    throw new BenchError('internal', `KVM probe: kernel ${opts.kernel} missing: ${messageOf(err)}`, { cause: err });
  }
  // Keyed by the kernel's content, not its path: every new artifact has a new
  // path but usually the same kernel, and a probe costs ~10 s.
  const key = {
    kernelSize: kst.size,
    kernelSha256: await sha256File(opts.kernel),
    qemuVersion,
    bootId: await bootId(),
    machine,
  };
  const keyHash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
  const cachePath = join(opts.cacheDir, CACHE_FILE);
  await mkdir(opts.cacheDir, { recursive: true });
  if (!opts.force) {
    const hit = (await readCache(cachePath)).entries[keyHash];
    if (hit) {
      opts.log?.(`accel: cached probe result ${hit.result.accel} (${hit.result.reason})`);
      return { ...hit.result, cached: true };
    }
  }

  const work = await mkdtemp(join(opts.cacheDir, 'accel-probe-'));
  const attempts: ProbeAttempt[] = [];
  let result: Omit<AccelProbeResult, 'cached'>;
  try {
    const initrd = join(work, 'probe-initrd.cpio');
    await writeFile(initrd, await buildProbeInitramfs(opts.busybox));
    const deadline = performance.now() + timeoutMs;
    let ok: ProbeAttempt | undefined;
    for (const cpu of KVM_CPU_CANDIDATES) {
      const left = deadline - performance.now();
      if (left < 500) break;
      opts.log?.(`accel: probing KVM with -cpu ${cpu} (≤ ${(left / 1000).toFixed(1)} s)`);
      const a = await probeOnce(qemuSystem, opts.kernel, initrd, machine, cpu, left);
      attempts.push(a);
      opts.log?.(`accel: -cpu ${cpu}: ${a.outcome} — ${a.detail}`);
      if (a.outcome === 'ok') {
        ok = a;
        break;
      }
      if (a.outcome === 'spawn-failed') break;
    }
    const durationMs = performance.now() - t0;
    const base = { machine, durationMs, probedAt: new Date().toISOString(), attempts };
    result = ok
      ? { ...base, accel: 'kvm', cpu: ok.cpu, reason: `kvm probe booted with -cpu ${ok.cpu}: ${ok.detail}` }
      : {
          ...base,
          accel: 'tcg',
          cpu: 'max',
          // Short, for reports; each attempt's full detail stays in `attempts`.
          reason: `kvm probe failed: ${attempts.map((a) => `-cpu ${a.cpu} ${a.outcome} (${a.detail.slice(0, 60)}${a.detail.length > 60 ? '…' : ''})`).join('; ') || 'no attempt fit in the time limit'}`,
        };
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const cache = await readCache(cachePath);
  cache.entries[keyHash] = { key, result };
  const tmp = `${cachePath}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(cache, null, 2)}\n`);
  await rename(tmp, cachePath);
  return { ...result, cached: false };
}

export interface ResolvedAccel {
  accel: Accel;
  cpu: string;
  reason: string;
  probe?: AccelProbeResult;
}

/** Apply the user's choice: 'tcg' → no probe; 'auto' → probe, fall back to TCG; 'kvm' → probe, fail if it does not work. */
export async function resolveAccelerator(requested: 'auto' | Accel, opts: ProbeOptions): Promise<ResolvedAccel> {
  if (requested === 'tcg') return { accel: 'tcg', cpu: 'max', reason: 'tcg requested' };
  const probe = await probeAccelerator(opts);
  if (probe.accel === 'kvm') return { accel: 'kvm', cpu: probe.cpu, reason: probe.reason, probe };
  if (requested === 'kvm') {
    throw new BenchError('unsupported', `KVM was requested but does not work here: ${probe.reason}`, {
      hint: "set the QEMU platform's accel to 'auto' or 'tcg' (TCG works everywhere, ≈50× slower inference)",
    });
  }
  return { accel: 'tcg', cpu: 'max', reason: probe.reason, probe };
}
