import { access, readdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BenchError } from '../../errors.js';
import { MARKER_FILE } from './instance.js';
import { killPids, listVmbenchQemuProcesses } from './procs.js';

/** Remove QEMU instance dirs (those with the marker file) of one run dir, and the run dir if it is then empty. */
export async function removeQemuRunDir(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(runDir);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const d = join(runDir, e);
    try {
      await access(join(d, MARKER_FILE));
    } catch {
      continue;
    }
    await rm(d, { recursive: true, force: true });
    removed.push(d);
  }
  try {
    await rmdir(runDir);
    removed.push(runDir);
  } catch {
    /* not empty: other platforms' files */
  }
  return removed;
}

export interface GcResult {
  /** How many qemu processes were killed. */
  killed: number;
  /** How many scratch/temp directories were removed. */
  removedDirs: number;
  processes: { pid: number; name: string }[];
  paths: string[];
}

/**
 * For `bench gc`: kill every qemu process named vmbench-*, remove every QEMU
 * scratch dir under <cacheDir>/runs (and run dirs left empty) and stale
 * KVM-probe temp dirs.
 */
export async function cleanupAllVmbenchVms(opts: { cacheDir: string; log?: (line: string) => void }): Promise<GcResult> {
  const procs = await listVmbenchQemuProcesses();
  if (procs.length) {
    opts.log?.(`gc: killing ${procs.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
    const left = await killPids(procs.map((p) => p.pid));
    if (left.length) throw new BenchError('infrastructure', `could not kill qemu process(es) ${left.join(', ')}`);
  }
  const paths: string[] = [];
  const cacheDir = resolve(opts.cacheDir);
  const runsDir = join(cacheDir, 'runs');
  for (const run of await readdir(runsDir).catch(() => [] as string[])) {
    paths.push(...(await removeQemuRunDir(join(runsDir, run))));
  }
  for (const e of await readdir(cacheDir).catch(() => [] as string[])) {
    if (e.startsWith('accel-probe-')) {
      await rm(join(cacheDir, e), { recursive: true, force: true });
      paths.push(join(cacheDir, e));
    }
  }
  const processes = procs.map((p) => ({ pid: p.pid, name: p.name }));
  return { killed: processes.length, removedDirs: paths.length, processes, paths };
}
