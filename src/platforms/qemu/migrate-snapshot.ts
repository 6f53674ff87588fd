import { copyFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import { SERVER_PORT_INSIDE } from '../../workload/contract.js';
import { LOOPBACK, pickFreePort } from '../host/ports.js';
import type { InstanceSpec, Lifecycle } from '../platform.js';
import type { Snapshot, SnapshotVariant } from '../snapshot.js';
import { hostfwdRules, qemuOptValue } from './args.js';
import { attachChild, killQemu, sleep, spawnQemu, type QemuInstance } from './instance.js';
import { handOver, type QemuIdentity } from './run-as.js';
import { isAlive, killPids, vmName } from './procs.js';
import { QmpClient } from './qmp.js';

/**
 * QEMU snapshot/restore by migration to a file (QEMU 7.2 has no `file:` URI):
 *
 *  snapshot: QMP `stop` → `migrate-set-parameters max-bandwidth` (the default
 *  throttle is 32 MiB/s) → `migrate exec:cat > mem.raw` → poll `query-migrate`
 *  until completed → gzip of that stream as a second variant → `quit`. The VM's
 *  qcow2 overlay is kept (the guest's disk must match its memory image).
 *
 *  restore: a copy of that overlay + the SAME qemu argv (read from
 *  /proc/<pid>/cmdline of the snapshotted VM) with only name/console/QMP/pidfile/
 *  disk paths and the HOST side of the hostfwd rules changed, plus
 *  `-incoming exec:cat mem.raw` → poll query-status until the incoming migration
 *  is done → QMP `cont`. When it answers is for the caller to measure.
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
    return [...kept, ...hostfwdRules({ hostPort: o.hostPort, guestPort: o.guestPort ?? SERVER_PORT_INSIDE, sshPort: o.sshPort })].join(',');
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

const str = (v: string | number | undefined, what: string): string => {
  if (typeof v !== 'string') throw new BenchError('internal', `snapshot handle lacks ${what}`);
  return v;
};

/**
 * Snapshot a running VM into `dir` (a fresh scratch dir): its vCPUs are
 * stopped, its state migrated to mem.raw (and gzip-compressed to mem.gz),
 * then it is quit; its overlay and SSH key move into `dir`. The instance is
 * gone afterwards; stop() only removes its scratch dir.
 */
export async function takeQemuSnapshot(
  platformName: string,
  inst: QemuInstance,
  qmp: QmpClient,
  dir: string,
  log: (line: string) => void,
): Promise<Snapshot> {
  const notes: string[] = [];
  const facts: Record<string, string | number | boolean> = {};
  const argv = await readArgv(inst.pid);
  // QEMU 7.2 refuses a second `migrate` from 'postmigrate' ("Can't migrate the vm
  // that was paused due to previous migration"), so the gzip variant is the same
  // migration stream compressed with `gzip -c` right after.
  await qmp.execute('stop');
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 2 ** 30 });
  const rawPath = join(dir, 'mem.raw');
  const t0 = performance.now();
  await qmp.execute('migrate', { uri: migrateUri('raw', rawPath) });
  const st = await pollMigration(qmp, 120_000);
  const rawMs = performance.now() - t0;
  const rawBytes = await allocatedBytes(rawPath);
  log(`snapshot: migrate raw ${rawMs.toFixed(0)} ms, ${(rawBytes / 2 ** 20).toFixed(1)} MiB on disk (qemu total-time ${st.totalTimeMs ?? '?'} ms)`);
  facts.rawMemoryImageBytes = rawBytes;
  if (st.transferredBytes !== undefined) facts.rawMigrationTransferredBytes = st.transferredBytes;
  const mems: Array<{ format: MigrateFormat; path: string; ms: number; bytes: number; how: string }> = [
    {
      format: 'raw', path: rawPath, ms: rawMs, bytes: rawBytes,
      how: `QMP stop; migrate-set-parameters max-bandwidth=64GiB/s; migrate "${migrateUri('raw', '<file>')}"; poll query-migrate until completed`,
    },
  ];
  const gzPath = join(dir, 'mem.gz');
  const g0 = performance.now();
  try {
    // buffer: false — execa would otherwise also keep the whole compressed stream in memory.
    await execa('gzip', ['-c', rawPath], { timeout: 120_000, stdin: 'ignore', stdout: { file: gzPath }, buffer: false });
    const gzMs = performance.now() - g0;
    const gzBytes = await allocatedBytes(gzPath);
    facts.gzipMemoryImageBytes = gzBytes;
    mems.push({
      format: 'gzip', path: gzPath, ms: rawMs + gzMs, bytes: gzBytes,
      how: `as raw, then \`gzip -c\` of that stream to a file (${gzMs.toFixed(0)} ms; the take time = migrate + gzip; a live "exec:gzip -c > file" would overlap the two)`,
    });
    log(`snapshot: gzip ${gzMs.toFixed(0)} ms, ${(gzBytes / 2 ** 20).toFixed(1)} MiB on disk`);
  } catch (err) {
    notes.push(`gzip of the migration stream failed: ${messageOf(err).slice(0, 300)}`);
    await rm(gzPath, { force: true });
  }
  facts.sourceStatusAfterMigrate = (await qmp.queryStatus()).status;
  await qmp.execute('quit', undefined, 2000).catch(() => undefined);
  for (let i = 0; i < 300 && isAlive(inst.pid); i++) await sleep(10);
  if (isAlive(inst.pid)) await killPids([inst.pid]);
  // Keep its disk state and key before stop() removes its scratch dir.
  const disk = join(dir, 'disk.qcow2');
  await rename(inst.overlay, disk);
  const key = join(dir, 'id_ed25519');
  await copyFile(inst.privateKeyPath, key);
  const diskBytes = await allocatedBytes(disk);
  facts.overlayBytes = diskBytes;
  facts.guestMemoryMiB = Number(inst.facts.memoryMiB ?? 0);
  facts.snapshottedSshPort = inst.sshPort;
  facts.snapshottedHostPort = inst.hostPort;
  notes.push(
    'snapshot bytes = memory image file + the qcow2 overlay kept with it (allocated bytes); the base disk image is shared and not counted',
    `restored VMs use new host ports for hostfwd (guest side unchanged: ${inst.guestPort} and 22)`,
    'under TCG one inference alone takes seconds: restore → first inference is bounded below by it',
  );
  const variants: SnapshotVariant[] = mems.map((m) => ({
    name: m.format,
    method:
      `qemu ${inst.machine}/${inst.accel} (${facts.guestMemoryMiB} MiB guest): ${m.how}; quit; overlay kept. ` +
      'Restore: same qemu argv + copy of that overlay + new host ports, ' +
      `-incoming "${incomingUri(m.format, '<file>')}", poll query-status until not inmigrate, QMP cont`,
    takeMs: m.ms,
    bytes: m.bytes + diskBytes,
    handle: { dir, disk, key, memFile: m.path, format: m.format, argv: JSON.stringify(argv), guestPort: inst.guestPort },
  }));
  return { platform: platformName, runId: inst.runId, instanceId: inst.id, processMemory: true, variants, facts, notes };
}

export interface RestoreOptions {
  platformName: string;
  snapshot: Snapshot;
  variant: SnapshotVariant;
  spec: InstanceSpec;
  lifecycle: Lifecycle;
  /** A fresh scratch dir for the restored VM. */
  scratchDir: string;
  /** Who QEMU runs as (run-as.ts); null: as the harness. */
  runAs?: QemuIdentity | null;
  log: (line: string) => void;
  /** How long the incoming migration may take (default 120 s). */
  timeoutMs?: number;
}

/** A new VM from a snapshot variant; returns once QMP `cont` ran (the guest is running again). */
export async function restoreQemuSnapshot(o: RestoreOptions): Promise<QemuInstance> {
  const { variant, spec, lifecycle, scratchDir } = o;
  const h = variant.handle;
  const argv = JSON.parse(str(h.argv, 'argv')) as string[];
  const format = str(h.format, 'format') as MigrateFormat;
  const disk = join(scratchDir, 'disk.qcow2');
  await copyFile(str(h.disk, 'disk'), disk);
  await handOver(o.runAs ?? null, disk);
  const sshPort = await pickFreePort([spec.port, Number(o.snapshot.facts.snapshottedSshPort), Number(o.snapshot.facts.snapshottedHostPort)]);
  const name = vmName(spec.runId, spec.instanceId);
  const qmpSocket = join(scratchDir, 'qmp.sock');
  const pidfile = join(scratchDir, 'qemu.pid');
  const consoleLog = join(scratchDir, 'console.log');
  const guestPort = typeof h.guestPort === 'number' ? h.guestPort : SERVER_PORT_INSIDE;
  const args = buildIncomingArgs(argv.slice(1), {
    name, disk, consoleLog, qmpSocket, pidfile, hostPort: spec.port, sshPort, guestPort,
    incoming: incomingUri(format, str(h.memFile, 'memFile')),
  });
  // The restore clock starts at the spawn: copying the overlay above is preparation, as a launch's image is.
  lifecycle.launch = performance.now();
  lifecycle.launchEpochMs = Date.now();
  const child = await spawnQemu(argv[0]!, args, o.runAs ?? null);
  lifecycle.created = performance.now();
  try {
    const died = () => {
      if (child.exited) throw new BenchError('infrastructure', `restored qemu exited: ${child.stderr.trim().slice(-500)}`);
    };
    child.qmp = await QmpClient.connectWithRetry(qmpSocket, 30_000, () => !child.exited);
    const phases: Record<string, number> = { qmp_connected: performance.now() - lifecycle.launch };
    const deadline = lifecycle.launch + (o.timeoutMs ?? 120_000);
    let status = '';
    for (;;) {
      died();
      status = (await child.qmp.queryStatus()).status;
      if (incomingDone(status)) break;
      if (performance.now() > deadline) throw new BenchError('infrastructure', `restore: still '${status}' after ${o.timeoutMs ?? 120_000} ms`);
      await sleep(5);
    }
    phases.incoming_done = performance.now() - lifecycle.launch;
    if (status !== 'running') await child.qmp.execute('cont');
    phases.cont = performance.now() - lifecycle.launch;
    lifecycle.started = performance.now();
    const pidText = (await readFile(pidfile, 'utf8').catch(() => '')).trim();
    const pid = /^[0-9]+$/.test(pidText) ? Number(pidText) : (child.child.pid ?? 0);
    o.log(`restore ${variant.name}: incoming done ${phases.incoming_done.toFixed(0)} ms (status then '${status}'), cont ${phases.cont.toFixed(0)} ms`);
    const inst: QemuInstance = {
      id: spec.instanceId, platformName: o.platformName, kind: 'qemu', baseUrl: `http://${LOOPBACK}:${spec.port}`, lifecycle,
      facts: {
        pid, hostPort: spec.port, sshPort, consoleLog, scratchDir, vmName: name, restoredFrom: variant.name,
        runtime: `qemu-${argv.includes('kvm') ? 'kvm' : 'tcg'}`,
        memoryMiB: Number(o.snapshot.facts.guestMemoryMiB ?? 0),
        ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`restore_${k}_ms`, Math.round(v)])),
      },
      runId: spec.runId, pid, accel: argv.includes('kvm') ? 'kvm' : 'tcg', machine: argv[argv.indexOf('-M') + 1] as QemuInstance['machine'],
      sshPort, hostPort: spec.port, guestPort, consoleLog, overlay: disk, scratchDir,
      // The guest's memory holds the snapshotted VM's authorized key.
      privateKeyPath: str(h.key, 'key'), qmpSocket, restored: true,
    };
    attachChild(inst, child);
    return inst;
  } catch (err) {
    await killQemu(child);
    throw err;
  }
}

/** Remove everything a snapshot kept (memory images, overlay, key). */
export async function removeQemuSnapshot(snapshot: Snapshot): Promise<void> {
  const dirs = new Set(snapshot.variants.map((v) => v.handle.dir).filter((d): d is string => typeof d === 'string'));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
