import { execa, type ResultPromise } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import type { Instance } from '../platform.js';
import type { Accel, Machine } from './args.js';
import type { QmpClient } from './qmp.js';

/**
 * A QEMU VM started by this process: what the platform hands out (the
 * instance) and what it keeps to itself (the child process and its QMP
 * connection), shared by the launch, the snapshot/restore and the stop paths.
 *
 * Scratch space per instance: <cacheDir>/runs/<runId>/<instanceId>/
 *   qemu-instance.json  marker (what created this directory)
 *   overlay.qcow2       copy-on-write layer over the artifact disk
 *   console.log         the guest's serial console
 *   qmp.sock, qemu.pid  control socket and pidfile
 *   id_ed25519[.pub]    per-instance SSH key (authorized via the kernel cmdline)
 */
export interface QemuInstance extends Instance {
  readonly kind: 'qemu';
  readonly facts: Record<string, string | number | boolean>;
  readonly pid: number;
  readonly accel: Accel;
  readonly machine: Machine;
  readonly sshPort: number;
  readonly hostPort: number;
  readonly guestPort: number;
  readonly consoleLog: string;
  readonly overlay: string;
  readonly scratchDir: string;
  readonly privateKeyPath: string;
  readonly qmpSocket: string;
  /** Restored from a snapshot: its guest was never booted here, so stop() quits it over QMP. */
  readonly restored?: boolean;
}

/** Marks a scratch directory as a QEMU instance's (bench gc removes only those). */
export const MARKER_FILE = 'qemu-instance.json';

export interface QemuChild {
  child: ResultPromise;
  exited: boolean;
  exitInfo: string | null;
  stderr: string;
  qmp: QmpClient | null;
}

const children = new WeakMap<QemuInstance, QemuChild>();

export function attachChild(instance: QemuInstance, proc: QemuChild): void {
  children.set(instance, proc);
}

export function childOf(instance: QemuInstance): QemuChild | undefined {
  return children.get(instance);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Instance and run ids go into file names, VM names and kernel command lines. */
export function checkId(what: string, v: string, max = 80): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(v) || v.length > max) {
    throw new BenchError('internal', `${what} ${JSON.stringify(v)} must match [a-z0-9][a-z0-9-]* (≤ ${max} chars)`);
  }
}

/** Start qemu-system-*; resolves once the process exists. */
export async function spawnQemu(bin: string, args: string[], runAs: { uid: number; gid: number } | null = null): Promise<QemuChild> {
  const child = execa(bin, args, {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    reject: false,
    detached: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: false,
    cleanup: true,
  });
  const p: QemuChild = { child, exited: false, exitInfo: null, stderr: '', qmp: null };
  child.stderr?.on('data', (c: Buffer) => {
    p.stderr += c.toString('utf8');
    if (p.stderr.length > 16 * 1024) p.stderr = p.stderr.slice(-8 * 1024);
  });
  void child.then((res) => {
    p.exited = true;
    p.exitInfo = res.signal ? `signal ${res.signal}` : `exit code ${res.exitCode ?? '?'}`;
    p.qmp?.close();
  });
  await new Promise<void>((resolvePromise, reject) => {
    child.once('spawn', () => resolvePromise());
    child.once('error', (err) => reject(new BenchError('infrastructure', `cannot start ${bin}: ${messageOf(err)}`, { cause: err })));
  });
  return p;
}

export async function waitExit(p: QemuChild, ms: number): Promise<boolean> {
  if (p.exited) return true;
  await Promise.race([p.child.then(() => undefined, () => undefined), sleep(ms)]);
  return p.exited;
}

/** quit over QMP, then SIGKILL; resolves when the process is gone. */
export async function killQemu(p: QemuChild): Promise<'quit' | 'kill' | 'gone'> {
  if (p.exited) return 'gone';
  if (p.qmp) {
    await p.qmp.execute('quit', undefined, 1000).catch(() => undefined);
    if (await waitExit(p, 1000)) return 'quit';
  }
  p.child.kill('SIGKILL');
  await waitExit(p, 5000);
  return 'kill';
}

export function consoleExcerpt(lines: string[]): string {
  return lines.length ? lines.map((l) => `  | ${l}`).join('\n') : '  (console empty)';
}
