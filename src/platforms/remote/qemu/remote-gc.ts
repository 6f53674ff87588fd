import { createHash } from 'node:crypto';
import { GUEST_LIST_COMMAND, parseGuestProcessList } from '../../linux-guest/guest-memory.js';
import { MARKER_FILE } from '../../qemu/instance.js';
import { belongsToRun, parseVmbenchCmdline, type QemuProcess } from '../../qemu/procs.js';
import type { RemoteHost } from '../remote-host.js';
import { shq } from '../ssh-connection.js';

/**
 * Finding and removing what runs left on a remote host: QEMU processes named
 * vmbench-<runId>-… that the SSH user owns (by their command line, as
 * qemu/procs.ts does here) and the instance directories under
 * <work_dir>/runs/ that carry the QEMU marker file. One run's, or (bench gc
 * --host) every run's. Only the SSH user's own processes can be signalled,
 * so another user's VMs on that host are never touched.
 */

export interface RemoteGcResult {
  killed: { pid: number; name: string }[];
  /** Pids still alive after SIGKILL. */
  left: number[];
  removedDirs: string[];
}

/** vmbench QEMU processes of the SSH user on the host. */
export async function listRemoteQemu(host: RemoteHost): Promise<QemuProcess[]> {
  const conn = await host.connection();
  const mine = new Set((await conn.run('ps -o pid= -u "$(id -u)"')).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0));
  const procs = parseGuestProcessList((await conn.exec(GUEST_LIST_COMMAND, { timeoutMs: 60_000 })).stdout);
  const out: QemuProcess[] = [];
  for (const [pid, argv] of procs) {
    if (!mine.has(pid)) continue;
    const p = parseVmbenchCmdline(pid, `${argv.join('\0')}\0`);
    if (p) out.push(p);
  }
  return out;
}

async function killRemote(host: RemoteHost, pids: number[]): Promise<number[]> {
  if (!pids.length) return [];
  const conn = await host.connection();
  const list = pids.join(' ');
  await conn.exec(`kill -TERM ${list} 2>/dev/null; true`);
  const alive = async () => (await conn.exec(`for p in ${list}; do kill -0 $p 2>/dev/null && echo $p; done; true`)).stdout.split('\n').map(Number).filter((n) => n > 0);
  for (let i = 0; i < 10 && (await alive()).length; i++) await new Promise((r) => setTimeout(r, 100));
  const still = await alive();
  if (still.length) await conn.exec(`kill -KILL ${still.join(' ')} 2>/dev/null; true`);
  await new Promise((r) => setTimeout(r, 300));
  return alive();
}

/** Instance dirs (with the marker) under <work_dir>/runs/<run or *>/, removed; empty run dirs too. */
async function removeRunDirs(host: RemoteHost, runId: string | null): Promise<string[]> {
  const conn = await host.connection();
  const runs = `${await host.workDir()}/runs`;
  const glob = runId === null ? `${shq(runs)}/*/*/` : `${shq(`${runs}/${runId}`)}/*/`;
  const script = `for d in ${glob}; do [ -f "\${d}${MARKER_FILE}" ] || continue; d=\${d%/}; rm -rf "$d" && echo "$d"; done; for r in ${runId === null ? `${shq(runs)}/*/` : shq(`${runs}/${runId}`)}; do rmdir "$r" 2>/dev/null; done; true`;
  const removed = (await conn.exec(script, { timeoutMs: 120_000 })).stdout.split('\n').filter(Boolean);
  // QMP sockets moved to /tmp for a too-long instance path (remote-qemu-platform.ts qmpPathFor).
  const sockets = removed.map((d) => `/tmp/vmbench-qmp-${createHash('sha256').update(d).digest('hex').slice(0, 16)}.sock`);
  if (sockets.length) await conn.exec(`rm -f ${sockets.map(shq).join(' ')}`);
  return removed;
}

/** One run's QEMU leftovers on the host (what cleanupRun removes). */
export async function cleanupRemoteRun(host: RemoteHost, runId: string, log?: (l: string) => void): Promise<RemoteGcResult> {
  const procs = (await listRemoteQemu(host)).filter((p) => belongsToRun(p, runId));
  if (procs.length) log?.(`cleanup ${runId} on ${host.name}: killing ${procs.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
  const left = await killRemote(host, procs.map((p) => p.pid));
  return { killed: procs.map((p) => ({ pid: p.pid, name: p.name })), left, removedDirs: await removeRunDirs(host, runId) };
}

/** Every run's (or one run's) QEMU leftovers on the host: `bench gc --host NAME [--run ID]`. */
export async function cleanupRemoteAll(host: RemoteHost, runId: string | null): Promise<RemoteGcResult> {
  if (runId !== null) return cleanupRemoteRun(host, runId);
  const procs = await listRemoteQemu(host);
  const left = await killRemote(host, procs.map((p) => p.pid));
  return { killed: procs.map((p) => ({ pid: p.pid, name: p.name })), left, removedDirs: await removeRunDirs(host, null) };
}
