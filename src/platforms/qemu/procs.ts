import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/**
 * Finding and killing QEMU processes started by vmbench, by their command line
 * (/proc/<pid>/cmdline): every VM runs with `-name vmbench-<runId>-<instanceId>`
 * and `-pidfile <cacheDir>/runs/<runId>/<instanceId>/qemu.pid`.
 */

export const VM_NAME_PREFIX = 'vmbench-';

export function vmName(runId: string, instanceId: string): string {
  return `${VM_NAME_PREFIX}${runId}-${instanceId}`;
}

export interface QemuProcess {
  pid: number;
  name: string;
  /** The run id taken from the pidfile path, when there is one. */
  runId: string | null;
  argv: string[];
}

/** Parse one NUL-separated cmdline; null unless it is a qemu-system with a vmbench -name. */
export function parseVmbenchCmdline(pid: number, raw: string): QemuProcess | null {
  const argv = raw.split('\0');
  if (argv.length && argv[argv.length - 1] === '') argv.pop();
  if (!argv[0] || !basename(argv[0]).startsWith('qemu-system')) return null;
  let name: string | null = null;
  let pidfile: string | null = null;
  for (let i = 1; i < argv.length - 1; i++) {
    if (argv[i] === '-name') {
      // "-name foo" or "-name guest=foo,debug-threads=on"
      const v = argv[i + 1]!;
      const first = v.split(',')[0]!;
      name = first.startsWith('guest=') ? first.slice(6) : first;
    } else if (argv[i] === '-pidfile') pidfile = argv[i + 1]!;
  }
  if (!name || !name.startsWith(VM_NAME_PREFIX)) return null;
  let runId: string | null = null;
  if (pidfile) {
    // <cacheDir>/runs/<runId>/<instanceId>/qemu.pid
    const instDir = dirname(pidfile);
    const runDir = dirname(instDir);
    if (basename(dirname(runDir)) === 'runs') runId = basename(runDir);
  }
  return { pid, name, runId, argv };
}

/** Every live vmbench qemu process on this host. */
export async function listVmbenchQemuProcesses(): Promise<QemuProcess[]> {
  const out: QemuProcess[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^[0-9]+$/.test(e)) continue;
    const pid = Number(e);
    let raw: string;
    try {
      raw = await readFile(`/proc/${e}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const p = parseVmbenchCmdline(pid, raw);
    if (p && isAlive(pid)) out.push(p);
  }
  return out;
}

/** Processes of one run: name prefix `vmbench-<runId>-` and, when a pidfile says so, that run id. */
export function belongsToRun(p: QemuProcess, runId: string): boolean {
  if (!p.name.startsWith(`${VM_NAME_PREFIX}${runId}-`)) return false;
  return p.runId === null || p.runId === runId;
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; Z = zombie, X = dead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL; resolves once every pid is gone (or waitMs passes). */
export async function killPids(pids: number[], graceMs = 1000, waitMs = 5000): Promise<number[]> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  const waitGone = async (ms: number) => {
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      if (pids.every((p) => !isAlive(p))) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return pids.every((p) => !isAlive(p));
  };
  signal('SIGTERM');
  if (!(await waitGone(graceMs))) {
    signal('SIGKILL');
    await waitGone(waitMs);
  }
  return pids.filter((p) => isAlive(p));
}

/** RSS and PSS of a process from /proc/<pid>/smaps_rollup (bytes); null if it is gone. */
export async function qemuMemoryUsage(pid: number): Promise<{ rssBytes: number; pssBytes: number } | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+([0-9]+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('Rss'), pssBytes: kb('Pss') };
}
