// @ts-check
/**
 * What the server can see of its own isolation, and what a system call costs
 * it — read and timed from inside the instance, the same code in a container,
 * a gVisor sandbox and a VM guest:
 *
 *   GET  /vmbench/isolation           facts: kernel release, boot id, capabilities, seccomp,
 *                                     no_new_privs, uid and uid_map, device nodes under /dev
 *   GET  /vmbench/syscalls?calls=N    times N getuid() and N stat('/') calls in-process (1000 ≤ N ≤ 2000000)
 *
 * getuid is the cheapest round trip into the kernel there is (glibc does not
 * cache it, node calls it on every process.getuid()); stat also walks the
 * filesystem layer (overlayfs in a container, the gofer in gVisor, ext4 in a VM).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { HttpError } from './http-util.mjs';

/** Device nodes every sandbox has and that reach no host hardware. */
const HARMLESS_DEVICES = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'ptmx', 'pts', 'shm', 'mqueue', 'fd', 'stdin', 'stdout', 'stderr', 'core']);

/** @param {string} path */
function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** @param {string} status @param {string} key */
function statusField(status, key) {
  const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status);
  return m ? /** @type {string} */ (m[1]).trim() : null;
}

/** Number of bits set in a hex capability mask. */
/** @param {string} hex */
function bitCount(hex) {
  let n = 0;
  for (const c of hex) n += [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4][parseInt(c, 16)] ?? 0;
  return n;
}

/** Device nodes under /dev (one level, plus /dev/dri and similar directories' entries) that are not the harmless ones. */
function hostDevices() {
  /** @type {string[]} */
  const out = [];
  /** @type {string[]} */
  let entries;
  try {
    entries = readdirSync('/dev');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (HARMLESS_DEVICES.has(e)) continue;
    const p = `/dev/${e}`;
    try {
      const st = statSync(p);
      if (st.isCharacterDevice() || st.isBlockDevice()) out.push(p);
      else if (st.isDirectory()) for (const sub of readdirSync(p)) out.push(`${p}/${sub}`);
    } catch {
      // vanished or unreadable: not visible
    }
  }
  return out.sort();
}

export function isolationFacts() {
  const status = readText('/proc/self/status') ?? '';
  const capEff = statusField(status, 'CapEff') ?? '';
  const seccomp = statusField(status, 'Seccomp');
  const nnp = statusField(status, 'NoNewPrivs');
  return {
    kernelRelease: release(),
    bootId: (readText('/proc/sys/kernel/random/boot_id') ?? '').trim() || null,
    capEff,
    capabilities: bitCount(capEff),
    seccomp: seccomp === '0' ? 'disabled' : seccomp === '1' ? 'strict' : seccomp === '2' ? 'filter' : 'unknown',
    noNewPrivs: nnp === null ? null : nnp === '1',
    uid: process.getuid?.() ?? -1,
    uidMap: (readText('/proc/self/uid_map') ?? '').trim().replace(/\s+/g, ' '),
    hostDevices: hostDevices(),
  };
}

/** @param {URL} url */
export function timeSyscalls(url) {
  const calls = Number(url.searchParams.get('calls') ?? '200000');
  if (!Number.isInteger(calls) || calls < 1000 || calls > 2_000_000) {
    throw new HttpError(400, `calls must be a whole number from 1000 to 2000000, got ${JSON.stringify(url.searchParams.get('calls'))}`);
  }
  const getuid = process.getuid;
  if (!getuid) throw new HttpError(501, 'process.getuid is not available on this platform');
  // Warm both paths first (JIT, dentry cache), then time each in one tight loop.
  for (let i = 0; i < 1000; i++) {
    getuid();
    statSync('/');
  }
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) getuid();
  const getuidNs = Number(process.hrtime.bigint() - t0) / calls;
  const statCalls = Math.max(1000, Math.floor(calls / 10));
  t0 = process.hrtime.bigint();
  for (let i = 0; i < statCalls; i++) statSync('/');
  const statNs = Number(process.hrtime.bigint() - t0) / statCalls;
  return { getuid: { calls, nsPerCall: getuidNs }, stat: { calls: statCalls, nsPerCall: statNs } };
}
