import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Which process owns a run: <cacheDir>/owners/<runId>.json, written before the
 * run starts anything and removed once its cleanup is done. What a run leaves
 * after a SIGKILL carries its run id (container labels, VM names, scratch
 * dirs); `bench gc` and the next `bench run` remove it only when the owner
 * is gone — so a gc never takes a run that is still going (the pid is
 * checked with its start time and the boot id, which a reused pid cannot fake).
 */
export interface RunOwner {
  runId: string;
  pid: number;
  /** Start time of the owner process in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: number | null;
  bootId: string | null;
  hostname: string;
  startedAt: string;
  /** The run's results directory (for `bench gc` to say where it was). */
  resultsDir: string;
}

export function ownersDir(cacheDir: string): string {
  return join(cacheDir, 'owners');
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may contain spaces). */
export function processStartTicks(pid: number, procRoot = '/proc'): number | null {
  const stat = readProc(join(procRoot, String(pid), 'stat'));
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]); // field 22 overall: fields 1–2 are pid and (comm)
  return Number.isFinite(v) ? v : null;
}

export function bootId(procRoot = '/proc'): string | null {
  return readProc(join(procRoot, 'sys/kernel/random/boot_id'))?.trim() || null;
}

export async function claimRun(cacheDir: string, runId: string, resultsDir: string): Promise<RunOwner> {
  const owner: RunOwner = {
    runId,
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    bootId: bootId(),
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    resultsDir,
  };
  await mkdir(ownersDir(cacheDir), { recursive: true });
  await writeFile(join(ownersDir(cacheDir), `${runId}.json`), JSON.stringify(owner, null, 2) + '\n');
  return owner;
}

export async function releaseRun(cacheDir: string, runId: string): Promise<void> {
  await rm(join(ownersDir(cacheDir), `${runId}.json`), { force: true });
}

/** Whether the owner process still runs: same boot, same pid, same start time. */
export function ownerAlive(owner: Pick<RunOwner, 'pid' | 'startTicks' | 'bootId'>, procRoot = '/proc'): boolean {
  if (owner.bootId && bootId(procRoot) && owner.bootId !== bootId(procRoot)) return false;
  const ticks = processStartTicks(owner.pid, procRoot);
  if (ticks === null) return false;
  return owner.startTicks === null || owner.startTicks === ticks;
}

export async function readOwners(cacheDir: string): Promise<RunOwner[]> {
  const out: RunOwner[] = [];
  for (const f of await readdir(ownersDir(cacheDir)).catch(() => [] as string[])) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(await readFile(join(ownersDir(cacheDir), f), 'utf8')) as RunOwner);
    } catch {
      // a marker torn by a crash mid-write: its run id is the file name, its owner unknown (treated as gone)
      out.push({ runId: f.slice(0, -5), pid: -1, startTicks: null, bootId: null, hostname: '', startedAt: '', resultsDir: '' });
    }
  }
  return out;
}

/** A run id's state: owned by a live process, left by a dead one, or unknown (no marker: an older vmbench, or not a run of this cache). */
export type Ownership = 'alive' | 'dead' | 'unknown';

export function ownershipOf(runId: string, owners: readonly RunOwner[], procRoot = '/proc'): Ownership {
  const o = owners.find((x) => x.runId === runId);
  if (!o) return 'unknown';
  return o.pid > 0 && ownerAlive(o, procRoot) ? 'alive' : 'dead';
}
