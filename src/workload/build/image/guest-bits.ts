import { chmod, copyFile, lstat, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BenchError } from '../../../errors.js';
import { GUEST_BITS_DIR, IMAGE_BUSYBOX, IMAGE_INIT_PATH, IMAGE_SHELL } from '../../image-workload.js';
import { runCommand } from '../exec.js';
import { hostPathIn } from '../rootfs/guest-path.js';
import { IMAGE_HOST_KEY } from './image-init.js';

/**
 * What the harness adds to an image's filesystem so that it boots as a VM
 * and can be read from inside, in both substrates alike (one rootfs, one
 * digest). Everything is self-contained under /.vmbench — whatever libc the
 * image has, or none: a static busybox (the init's shell, root's login
 * shell, the commands the harness runs), and dropbear and util-linux's
 * setpriv copied from this host with the shared libraries they load and
 * their own dynamic loader. Outside /.vmbench only what SSH needs is
 * touched: root's shell in /etc/passwd (added if the image has no passwd),
 * that shell in /etc/shells, root's password field made "*" when blank
 * (dropbear refuses blank passwords), the mount points, and an /etc/hosts
 * when the image has none.
 */

/** Host binaries bundled into /.vmbench (run through the bundled loader). */
export const BUNDLED_TOOLS = [
  { name: 'dropbear', host: '/usr/sbin/dropbear' },
  { name: 'setpriv', host: '/usr/bin/setpriv' },
] as const;

export interface BundleFile {
  /** Path under /.vmbench. */
  dest: string;
  src: string;
}

/** The shared libraries `ldd` says a host binary loads, and its loader. */
export function parseLdd(text: string): { libs: Array<{ name: string; path: string }>; loader: string | null } {
  const libs: Array<{ name: string; path: string }> = [];
  let loader: string | null = null;
  for (const line of text.split('\n')) {
    const arrow = /^\s*(\S+)\s+=>\s+(\/\S+)\s+\(0x/.exec(line);
    if (arrow) libs.push({ name: arrow[1]!, path: arrow[2]! });
    else {
      const ld = /^\s*(\/\S*ld-linux\S*)\s+\(0x/.exec(line);
      if (ld) loader = ld[1]!;
    }
  }
  return { libs, loader };
}

/** Every file the bundled tools need: the binaries (libexec/), their libraries and loader (lib/). */
export async function toolBundle(): Promise<BundleFile[]> {
  const out = new Map<string, string>();
  for (const t of BUNDLED_TOOLS) {
    if (!(await lstat(t.host).catch(() => undefined))) {
      throw new BenchError('infrastructure', `${t.host} not found (image workloads bundle it into the VM)`, {
        hint: 'apt-get install dropbear-bin util-linux (or run ./scripts/setup.sh)',
      });
    }
    const { libs, loader } = parseLdd(await runCommand('ldd', [t.host], { what: `ldd ${t.host}` }));
    if (!loader) throw new BenchError('infrastructure', `ldd ${t.host}: no dynamic loader found`);
    out.set(`libexec/${t.name}`, await realpath(t.host));
    out.set('lib/ld-linux-x86-64.so.2', await realpath(loader));
    for (const l of libs) out.set(`lib/${l.name}`, await realpath(l.path));
  }
  return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([dest, src]) => ({ dest, src }));
}

/**
 * A bundled tool's wrapper: the bundled loader runs the binary with the
 * bundled libraries only. Its argv[0] names no file, on purpose: dropbear
 * re-executes itself (open(argv[0]) + fexecve) for every connection, and
 * the binary run without our loader would look for its libraries in the
 * image; when argv[0] cannot be opened it serves the connection from a
 * plain fork instead.
 */
export function toolWrapper(name: string): string {
  const d = GUEST_BITS_DIR;
  return `#!${IMAGE_SHELL}\nexec ${d}/lib/ld-linux-x86-64.so.2 --library-path ${d}/lib --argv0 ${d}/no-reexec/${name} ${d}/libexec/${name} "$@"\n`;
}

/** /etc/passwd with root's shell set to the bundled one (a root entry added if there is none). */
export function passwdWithRootShell(text: string | null): string {
  const lines = (text ?? '').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  let found = false;
  const out = lines.map((l) => {
    const f = l.split(':');
    if (f[0] !== 'root' || f.length < 7) return l;
    found = true;
    f[6] = IMAGE_SHELL;
    return f.join(':');
  });
  if (!found) out.unshift(`root:x:0:0:root:/root:${IMAGE_SHELL}`);
  return `${out.join('\n')}\n`;
}

/** Root's password field "*" where it is blank (dropbear refuses a blank one even for key logins); anything else stays. */
export function shadowWithoutBlankRoot(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      const f = l.split(':');
      if (f[0] !== 'root' || f.length < 2 || f[1] !== '') return l;
      f[1] = '*';
      return f.join(':');
    })
    .join('\n');
}

/** Root's home directory in a passwd file ('/root' when it has none). */
export function rootHome(passwd: string): string {
  for (const l of passwd.split('\n')) {
    const f = l.split(':');
    if (f[0] === 'root' && f.length >= 7) return f[5] || '/';
  }
  return '/root';
}

async function readIn(root: string, guest: string): Promise<string | null> {
  return readFile(await hostPathIn(root, guest), 'utf8').catch(() => null);
}

async function writeIn(root: string, guest: string, text: string, mode: number): Promise<void> {
  const host = await hostPathIn(root, guest);
  await mkdir(dirname(host), { recursive: true });
  const st = await lstat(host).catch(() => undefined);
  if (st && !st.isFile()) await rm(host, { recursive: true, force: true });
  await writeFile(host, text);
  await chmod(host, st?.isFile() ? Number(st.mode) & 0o7777 : mode);
}

export interface GuestBitsInput {
  busybox: string;
  hostKey: string;
  tools: readonly BundleFile[];
  /** The init script (image-init.ts), rendered for this image. */
  init: string;
}

/** Adds the guest bits to the flattened image at `root`. */
export async function installGuestBits(root: string, input: GuestBitsInput): Promise<void> {
  const bits = join(root, GUEST_BITS_DIR);
  await rm(bits, { recursive: true, force: true }); // an image made from an earlier artifact: ours, replaced
  for (const d of ['bin', 'lib', 'libexec']) await mkdir(join(bits, d), { recursive: true, mode: 0o755 });
  await chmod(bits, 0o755);
  await copyFile(input.busybox, join(root, IMAGE_BUSYBOX));
  await chmod(join(root, IMAGE_BUSYBOX), 0o755);
  await symlink('busybox', join(root, IMAGE_SHELL));
  for (const f of input.tools) {
    await copyFile(f.src, join(bits, f.dest));
    await chmod(join(bits, f.dest), 0o755);
  }
  for (const t of BUNDLED_TOOLS) {
    await writeFile(join(bits, 'bin', t.name), toolWrapper(t.name));
    await chmod(join(bits, 'bin', t.name), 0o755);
  }
  await copyFile(input.hostKey, join(root, IMAGE_HOST_KEY));
  await chmod(join(root, IMAGE_HOST_KEY), 0o600);
  await writeFile(join(root, IMAGE_INIT_PATH), input.init);
  await chmod(join(root, IMAGE_INIT_PATH), 0o755);

  await writeIn(root, '/etc/passwd', passwdWithRootShell(await readIn(root, '/etc/passwd')), 0o644);
  const shells = (await readIn(root, '/etc/shells')) ?? '';
  if (!shells.split('\n').includes(IMAGE_SHELL)) await writeIn(root, '/etc/shells', `${shells}${shells && !shells.endsWith('\n') ? '\n' : ''}${IMAGE_SHELL}\n`, 0o644);
  const shadow = await readIn(root, '/etc/shadow');
  if (shadow !== null) await writeIn(root, '/etc/shadow', shadowWithoutBlankRoot(shadow), 0o640);
  if ((await readIn(root, '/etc/hosts')) === null) {
    await writeIn(root, '/etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n', 0o644);
  }
  for (const d of ['/dev', '/proc', '/sys', '/run', '/tmp']) {
    const host = await hostPathIn(root, d);
    const st = await lstat(host).catch(() => undefined);
    if (!st) await mkdir(host, { mode: 0o755 });
  }
  await chmod(await hostPathIn(root, '/tmp'), 0o1777);
}
