import { copyFile, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { BenchError, messageOf } from '../errors.js';
import { firstInferenceMs, snapshotResult, type SnapshotRestoreOptions, type SnapshotRestoreResult, type SnapshotVariant } from '../measure/snapshot.js';
import { fixedInput } from '../runner/input.js';
import type { InstanceSpec, Lifecycle } from './platform.js';
import { hostfwdRules, HOST_LOOPBACK, GUEST_SERVER_PORT, qemuOptValue } from './qemu-args.js';
import { pickFreePort } from './qemu-ports.js';
import { isAlive, killPids, vmName } from './qemu-procs.js';
import { QmpClient } from './qemu-qmp.js';
import type { QemuInstance, QemuPlatform } from './qemu.js';

/**
 * QEMU snapshot/restore by migration to a file (QEMU 7.2 has no `file:` URI):
 *
 *  snapshot: fresh VM answers an inference → QMP `stop` → `migrate-set-parameters
 *  max-bandwidth` (the default throttle is 32 MiB/s) → `migrate exec:cat > mem.raw`
 *  (and again `exec:gzip -c > mem.gz` from the same stopped VM) → poll
 *  `query-migrate` until completed → `quit`. The VM's qcow2 overlay is kept (the
 *  guest's disk must match its memory image).
 *
 *  restore: a copy of that overlay + the SAME qemu argv (read from
 *  /proc/<pid>/cmdline of the snapshotted VM) with only name/console/QMP/pidfile/
 *  disk paths and the HOST side of the hostfwd rules changed, plus
 *  `-incoming exec:cat mem.raw` → poll query-status until the incoming migration
 *  is done → QMP `cont` → first inference.
 */

export type MigrateFormat = 'raw' | 'gzip';

/** Single-quote a path for /bin/sh (QEMU runs exec: URIs with sh -c). */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function migrateUri(format: MigrateFormat, path: string): string {
  return format === 'raw' ? `exec:cat > ${shQuote(path)}` : `exec:gzip -c > ${shQuote(path)}`;
}

export function incomingUri(format: MigrateFormat, path: string): string {
  return format === 'raw' ? `exec:cat ${shQuote(path)}` : `exec:gzip -dc ${shQuote(path)}`;
}

export interface MigrateStatus {
  status: string;
  done: boolean;
  failed: boolean;
  error?: string;
  totalTimeMs?: number;
  transferredBytes?: number;
}

/** Parse a `query-migrate` return value. */
export function parseMigrateStatus(ret: unknown): MigrateStatus {
  const r = (ret ?? {}) as { status?: unknown; 'error-desc'?: unknown; 'total-time'?: unknown; ram?: { transferred?: unknown } };
  const status = typeof r.status === 'string' ? r.status : 'none';
  const out: MigrateStatus = {
    status,
    done: status === 'completed',
    failed: status === 'failed' || status === 'cancelled',
  };
  if (typeof r['error-desc'] === 'string') out.error = r['error-desc'];
  if (typeof r['total-time'] === 'number') out.totalTimeMs = r['total-time'];
  if (typeof r.ram?.transferred === 'number') out.transferredBytes = r.ram.transferred;
  return out;
}

/** After `-incoming`: true once QEMU has loaded the whole state (status no longer 'inmigrate'). */
export function incomingDone(status: string): boolean {
  return status !== 'inmigrate';
}

export interface IncomingArgsOptions {
  name: string;
  disk: string;
  consoleLog: string;
  qmpSocket: string;
  pidfile: string;
  hostPort: number;
  sshPort: number;
  guestPort?: number;
  incoming: string;
}

/**
 * The restore command line: the snapshotted VM's argv (without argv[0]) with the
 * per-instance values replaced and `-incoming` appended. Device, memory, CPU,
 * machine, kernel, initrd and kernel command line stay exactly as they were.
 * Throws if an expected option is missing (the argv is not one buildQemuArgs made).
 */
export function buildIncomingArgs(original: string[], o: IncomingArgsOptions): string[] {
  const args = [...original];
  const replaced = new Set<string>();
  const setValue = (opt: string, fn: (old: string) => string) => {
    const i = args.indexOf(opt);
    if (i < 0 || i + 1 >= args.length) throw new BenchError('internal', `restore: the original qemu argv has no ${opt}`);
    args[i + 1] = fn(args[i + 1]!);
    replaced.add(opt);
  };
  setValue('-name', () => o.name);
  setValue('-pidfile', () => o.pidfile);
  setValue('-qmp', () => `unix:${qemuOptValue(o.qmpSocket)},server=on,wait=off`);
  setValue('-chardev', (old) => {
    if (!old.startsWith('file,id=con0,')) throw new BenchError('internal', `restore: unexpected -chardev ${old}`);
    return `file,id=con0,path=${qemuOptValue(o.consoleLog)}`;
  });
  setValue('-drive', (old) => {
    const m = /^file=(?:[^,]|,,)*,(.*)$/.exec(old);
    if (!m) throw new BenchError('internal', `restore: unexpected -drive ${old}`);
    return `file=${qemuOptValue(o.disk)},${m[1]}`;
  });
  setValue('-netdev', (old) => {
    const kept = old.split(',').filter((p) => !p.startsWith('hostfwd='));
    return [...kept, ...hostfwdRules({ hostPort: o.hostPort, guestPort: o.guestPort ?? GUEST_SERVER_PORT, sshPort: o.sshPort })].join(',');
  });
  if (args.includes('-incoming')) throw new BenchError('internal', 'restore: the original argv already has -incoming');
  args.push('-incoming', o.incoming);
  return args;
}

/** argv of a running process from /proc. */
export async function readArgv(pid: number): Promise<string[]> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  const argv = raw.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  return argv;
}

/** Allocated size on disk (sparse files count what they use). */
export async function allocatedBytes(path: string): Promise<number> {
  const s = await stat(path);
  return s.blocks * 512;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What snapshot-qemu needs from QemuPlatform (its privates stay private). */
export interface QemuSnapshotContext {
  platform: QemuPlatform;
  cacheDir: string;
  /** The QMP client qemu.ts holds for an instance it launched. */
  qmpOf: (inst: QemuInstance) => QmpClient | null;
  markerFile: string;
  log: (line: string) => void;
}

interface Restored {
  child: ResultPromise;
  exited: boolean;
  stderr: string;
  qmp: QmpClient | null;
  pid: number;
  inst: QemuInstance | null;
}

async function pollMigration(qmp: QmpClient, timeoutMs: number): Promise<MigrateStatus> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const st = parseMigrateStatus(await qmp.execute('query-migrate'));
    if (st.done) return st;
    if (st.failed) throw new BenchError('infrastructure', `qemu migration ${st.status}: ${st.error ?? '(no error-desc)'}`);
    if (performance.now() > deadline) throw new BenchError('infrastructure', `qemu migration still '${st.status}' after ${timeoutMs} ms`);
    await sleep(10);
  }
}

export async function qemuSnapshotRestore(
  ctx: QemuSnapshotContext,
  spec: InstanceSpec,
  opts: SnapshotRestoreOptions,
): Promise<SnapshotRestoreResult> {
  const { platform } = ctx;
  const input = opts.input ?? fixedInput(3 * 224 * 224, 1);
  const notes: string[] = [];
  const facts: Record<string, string | number | boolean> = {};
  const snapDir = join(resolve(ctx.cacheDir), 'runs', spec.runId, `${spec.instanceId}-snap`);
  const restored: Restored[] = [];
  let first: QemuInstance | null = null;
  const formats: MigrateFormat[] = ['raw', 'gzip'];
  try {
    await rm(snapDir, { recursive: true, force: true });
    await mkdir(snapDir, { recursive: true });
    await writeFile(
      join(snapDir, ctx.markerFile),
      `${JSON.stringify({ platform: 'qemu', name: platform.name, runId: spec.runId, instanceId: `${spec.instanceId}-snap`, createdAt: new Date().toISOString() })}\n`,
    );

    // 1. A fresh VM, ready = it answers an inference (model loaded).
    first = await platform.launch(spec);
    const baseline = await firstInferenceMs(first, spec.modelName, input, opts);
    ctx.log(`snapshot: fresh VM launch → first inference ${baseline.toFixed(0)} ms`);
    const qmp = ctx.qmpOf(first);
    if (!qmp) throw new BenchError('internal', 'snapshot: no QMP client for the launched VM');
    const argv = await readArgv(first.pid);
    const bin = argv[0]!;
    const origArgs = argv.slice(1);

    // 2. Stop the vCPUs, migrate to a file, quit. QEMU 7.2 refuses a second
    // `migrate` from 'postmigrate' ("Can't migrate the vm that was paused due to
    // previous migration"), so the gzip file is the same migration stream
    // compressed with `gzip -c` right after (what `exec:gzip -c > file` writes).
    const snaps: { format: MigrateFormat; path: string; ms: number; bytes: number; how: string; transferred?: number }[] = [];
    await qmp.execute('stop');
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 2 ** 30 });
    const rawPath = join(snapDir, 'mem.raw');
    const t0 = performance.now();
    await qmp.execute('migrate', { uri: migrateUri('raw', rawPath) });
    const st = await pollMigration(qmp, 120_000);
    const rawMs = performance.now() - t0;
    const rawBytes = await allocatedBytes(rawPath);
    snaps.push({
      format: 'raw',
      path: rawPath,
      ms: rawMs,
      bytes: rawBytes,
      how: `QMP stop; migrate-set-parameters max-bandwidth=64GiB/s; migrate "${migrateUri('raw', '<file>')}"; poll query-migrate until completed`,
      transferred: st.transferredBytes,
    });
    ctx.log(`snapshot: migrate raw ${rawMs.toFixed(0)} ms, ${(rawBytes / 2 ** 20).toFixed(1)} MiB on disk (qemu total-time ${st.totalTimeMs ?? '?'} ms)`);
    if (formats.includes('gzip')) {
      const gzPath = join(snapDir, 'mem.gz');
      const g0 = performance.now();
      try {
        await execa('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', rawPath, gzPath], { timeout: 120_000, stdin: 'ignore' });
        const gzMs = performance.now() - g0;
        const gzBytes = await allocatedBytes(gzPath);
        snaps.push({
          format: 'gzip',
          path: gzPath,
          ms: rawMs + gzMs,
          bytes: gzBytes,
          how: `as raw, then \`gzip -c\` of that stream to a file (${gzMs.toFixed(0)} ms; snapshotMs = migrate + gzip; a live "exec:gzip -c > file" would overlap the two)`,
        });
        ctx.log(`snapshot: gzip ${gzMs.toFixed(0)} ms, ${(gzBytes / 2 ** 20).toFixed(1)} MiB on disk`);
      } catch (err) {
        notes.push(`gzip of the migration stream failed: ${messageOf(err)}`);
        await rm(gzPath, { force: true });
      }
    }
    if (!snaps.length) throw new BenchError('infrastructure', `snapshot: every migration failed: ${notes.join('; ')}`);
    const statusAfter = await qmp.queryStatus();
    facts.sourceStatusAfterMigrate = statusAfter.status;
    await qmp.execute('quit', undefined, 2000).catch(() => undefined);
    for (let i = 0; i < 300 && isAlive(first.pid); i++) await sleep(10);
    if (isAlive(first.pid)) await killPids([first.pid]);
    // Keep its disk state and key before stop() removes its scratch dir.
    const disk = join(snapDir, 'disk.qcow2');
    await rename(first.overlay, disk);
    const key = join(snapDir, 'id_ed25519');
    await copyFile(first.privateKeyPath, key);
    const firstInst = first;
    first = null;
    await platform.stop(firstInst);
    const diskBytes = await allocatedBytes(disk);
    facts.overlayBytes = diskBytes;
    facts.guestMemoryMiB = Number(firstInst.facts.memoryMiB ?? 0);
    facts.snapshottedSshPort = firstInst.sshPort;
    facts.snapshottedHostPort = firstInst.hostPort;

    // 3. Restore each format into a new VM and measure restore → first inference.
    const variants: SnapshotVariant[] = [];
    for (const snap of snaps) {
      opts.signal?.throwIfAborted();
      const tag = `r${snap.format}`;
      const rDisk = join(snapDir, `${tag}.qcow2`);
      await copyFile(disk, rDisk);
      const hostPort = await pickFreePort([spec.port, firstInst.sshPort, firstInst.hostPort]);
      const sshPort = await pickFreePort([spec.port, hostPort, firstInst.sshPort, firstInst.hostPort]);
      const name = vmName(spec.runId, `${spec.instanceId}-${tag}`);
      const qmpSocket = join(snapDir, `${tag}.qmp.sock`);
      const pidfile = join(snapDir, `${tag}.pid`);
      const consoleLog = join(snapDir, `${tag}.console.log`);
      const args = buildIncomingArgs(origArgs, {
        name,
        disk: rDisk,
        consoleLog,
        qmpSocket,
        pidfile,
        hostPort,
        sshPort,
        incoming: incomingUri(snap.format, snap.path),
      });
      const lifecycle: Lifecycle = { launch: performance.now(), launchEpochMs: Date.now() };
      const child = execa(bin, args, { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false, cleanup: true });
      const r: Restored = { child, exited: false, stderr: '', qmp: null, pid: child.pid ?? 0, inst: null };
      restored.push(r);
      child.stderr?.on('data', (c: Buffer) => {
        r.stderr = (r.stderr + c.toString('utf8')).slice(-8192);
      });
      void child.then(() => {
        r.exited = true;
        r.qmp?.close();
      });
      lifecycle.created = performance.now();
      const died = () => {
        if (r.exited) throw new BenchError('infrastructure', `restored qemu exited: ${r.stderr.trim().slice(-500)}`);
      };
      r.qmp = await QmpClient.connectWithRetry(qmpSocket, 30_000, () => !r.exited);
      const phases: Record<string, number> = { qmp_connected: performance.now() - lifecycle.launch };
      let status = '';
      const deadline = lifecycle.launch + opts.readyTimeoutMs;
      for (;;) {
        died();
        status = (await r.qmp.queryStatus()).status;
        if (incomingDone(status)) break;
        if (performance.now() > deadline) throw new BenchError('infrastructure', `restore: still '${status}' after ${opts.readyTimeoutMs} ms`);
        await sleep(5);
      }
      phases.incoming_done = performance.now() - lifecycle.launch;
      const inc = parseMigrateStatus(await r.qmp.execute('query-migrate'));
      if (status !== 'running') await r.qmp.execute('cont');
      phases.cont = performance.now() - lifecycle.launch;
      lifecycle.started = performance.now();
      const pidText = (await readFile(pidfile, 'utf8').catch(() => '')).trim();
      if (/^[0-9]+$/.test(pidText)) r.pid = Number(pidText);
      const inst: QemuInstance = {
        id: `${spec.instanceId}-${tag}`,
        platformName: platform.name,
        kind: 'qemu',
        baseUrl: `http://${HOST_LOOPBACK}:${hostPort}`,
        lifecycle,
        facts: { ...firstInst.facts, pid: r.pid, hostPort, sshPort, overlay: rDisk, consoleLog, scratchDir: snapDir, vmName: name, restoredFrom: snap.format },
        runId: spec.runId,
        pid: r.pid,
        accel: firstInst.accel,
        machine: firstInst.machine,
        sshPort,
        hostPort,
        guestPort: firstInst.guestPort,
        consoleLog,
        overlay: rDisk,
        scratchDir: snapDir,
        privateKeyPath: key,
        qmpSocket,
      };
      r.inst = inst;
      const ms = await firstInferenceMs(inst, spec.modelName, input, opts, died);
      phases.first_inference = ms;
      let restoredMemoryBytes: number | undefined;
      try {
        const mem = await platform.memoryReading(inst);
        restoredMemoryBytes = mem.host.attributableBytes;
        phases.memory_read_done = performance.now() - lifecycle.launch;
      } catch (err) {
        notes.push(`${snap.format}: memory reading of the restored VM failed: ${messageOf(err)}`);
      }
      ctx.log(
        `restore ${snap.format}: incoming done ${phases.incoming_done!.toFixed(0)} ms (status then '${status}', incoming migrate status '${inc.status}'), cont ${phases.cont!.toFixed(0)} ms, first inference ${ms.toFixed(0)} ms`,
      );
      const variant: SnapshotVariant = {
        method:
          `qemu ${firstInst.machine}/${firstInst.accel} (${facts.guestMemoryMiB} MiB guest): ${snap.how}; quit; overlay kept. ` +
          `Restore: same qemu argv + copy of that overlay + new host ports, ` +
          `-incoming "${incomingUri(snap.format, '<file>')}", poll query-status until not inmigrate, QMP cont`,
        snapshotMs: snap.ms,
        snapshotBytes: snap.bytes + diskBytes,
        restoreToFirstInferenceMs: ms,
        restorePhasesMs: phases,
      };
      if (restoredMemoryBytes !== undefined) variant.restoredMemoryBytes = restoredMemoryBytes;
      variants.push(variant);
      facts[`${snap.format}MemoryImageBytes`] = snap.bytes;
      if (snap.transferred !== undefined) facts[`${snap.format}MigrationTransferredBytes`] = snap.transferred;
      await stopRestored(r);
      await rm(rDisk, { force: true });
    }
    notes.push(
      'snapshotBytes = memory image file + the qcow2 overlay kept with it (allocated bytes); the base disk image is shared and not counted',
      `restored VMs used new host ports for hostfwd (guest side unchanged: ${firstInst.guestPort} and 22); the inference answered on the new server port` +
        (variants.some((v) => v.restoredMemoryBytes !== undefined) ? ' and SSH (memory reading) on the new ssh port' : ''),
      'under TCG one ResNet-18 inference alone takes seconds: restore → first inference is bounded below by it',
    );
    return snapshotResult(platform.name, baseline, variants, facts, notes);
  } finally {
    for (const r of restored) await stopRestored(r).catch(() => undefined);
    if (first) await platform.stop(first).catch(() => undefined);
    await rm(snapDir, { recursive: true, force: true }).catch(() => undefined);
    await rmdirQuiet(join(resolve(ctx.cacheDir), 'runs', spec.runId));
  }
}

async function rmdirQuiet(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}

async function stopRestored(r: Restored): Promise<void> {
  if (r.exited) return;
  if (r.qmp) await r.qmp.execute('quit', undefined, 1000).catch(() => undefined);
  await Promise.race([r.child.then(() => undefined, () => undefined), sleep(2000)]);
  if (!r.exited) {
    r.child.kill('SIGKILL');
    await Promise.race([r.child.then(() => undefined, () => undefined), sleep(5000)]);
  }
  if (r.pid && isAlive(r.pid)) await killPids([r.pid]);
  r.qmp?.close();
}
