import { chmod, copyFile, lstat, lutimes, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GUEST_APP_DIR, GUEST_DIGEST_FILE, GUEST_MODEL, GUEST_NODE, WORKLOAD_USER } from '../../contract.js';
import { BenchError } from '../../../errors.js';
import { computeRootfsDigest, FIXED_MTIME_S, fixMtimes } from './digest.js';
import { runCommand } from '../exec.js';
import { GUEST_BUSYBOX, GUEST_HOST_KEY, GUEST_INIT_PATH, GUEST_POWEROFF_PATH, guestInitScript, poweroffScript } from './guest-init.js';
import { hostPathIn } from './guest-path.js';
import { GUEST_DEFAULTS } from '../../../platforms/linux-guest/kernel-cmdline.js';
import type { RuntimeFile } from './ort-files.js';
import { gpuInitFiles } from './gpu-init.js';

/** Where dropbear looks for an SFTP server, all pointing at openssh's. */
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
export const SFTP_LINKS = ['/usr/libexec/sftp-server', '/usr/lib/sftp-server'] as const;
export const POWEROFF_LINKS = ['/sbin/poweroff', '/sbin/halt', '/sbin/shutdown'] as const;

export interface RootfsInputs {
  baseTarball: string;
  nodeBinary: string;
  /** Server files: name → host path, copied to /app/<name>. */
  serverFiles: ReadonlyArray<{ name: string; src: string }>;
  ortFiles: readonly RuntimeFile[];
  modelFile: string;
  busybox: string;
  hostKey: string;
  /** A GPU image: the GPU init wrapper (gpu-init.ts); its libraries and guest driver come in ortFiles. */
  gpu?: boolean;
}

/** Small text files of the rootfs, fixed (hostname, hosts, resolv.conf for QEMU user networking, app package.json); a GPU image wraps the init. */
export function rootfsTextFiles(gpu = false): Array<{ path: string; text: string; mode: number }> {
  const files = [
    { path: '/etc/hostname', text: `${GUEST_DEFAULTS.hostname}\n`, mode: 0o644 },
    {
      path: '/etc/hosts',
      text: `127.0.0.1\tlocalhost\n127.0.1.1\t${GUEST_DEFAULTS.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
      mode: 0o644,
    },
    { path: '/etc/resolv.conf', text: `nameserver ${GUEST_DEFAULTS.dns}\n`, mode: 0o644 },
    { path: `${GUEST_APP_DIR}/package.json`, text: '{"type":"module"}\n', mode: 0o644 },
    { path: GUEST_INIT_PATH, text: guestInitScript(), mode: 0o755 },
    { path: GUEST_POWEROFF_PATH, text: poweroffScript(), mode: 0o755 },
  ];
  return gpu ? [...files.filter((f) => f.path !== GUEST_INIT_PATH), ...gpuInitFiles(guestInitScript())] : files;
}

/** Writes into a rootfs tree without ever following a link out of it. */
class RootfsWriter {
  constructor(readonly root: string) {}

  /** Host path for a guest path whose parent directories exist (links in the parent resolved inside the root). */
  async target(guestPath: string): Promise<string> {
    const parent = await hostPathIn(this.root, dirname(guestPath));
    return join(parent, guestPath.slice(guestPath.lastIndexOf('/') + 1));
  }

  async dir(guestPath: string, mode = 0o755): Promise<string> {
    const parts = guestPath.split('/').filter(Boolean);
    let guest = '';
    let host = this.root;
    for (const p of parts) {
      guest += `/${p}`;
      host = await hostPathIn(this.root, guest);
      const st = await stat(host).catch(() => undefined);
      if (!st) {
        await mkdir(host);
        await chmod(host, mode);
      } else if (!st.isDirectory()) {
        throw new BenchError('internal', `rootfs: ${guest} exists and is not a directory`);
      }
    }
    return host;
  }

  private async clear(host: string): Promise<void> {
    const st = await lstat(host).catch(() => undefined);
    if (st && !st.isDirectory()) await rm(host, { force: true });
  }

  async file(guestPath: string, content: { src: string } | { data: string | Buffer }, mode: number): Promise<void> {
    await this.dir(dirname(guestPath));
    const host = await this.target(guestPath);
    await this.clear(host);
    if ('src' in content) await copyFile(content.src, host);
    else await writeFile(host, content.data);
    await chmod(host, mode);
  }

  async link(guestPath: string, target: string): Promise<void> {
    await this.dir(dirname(guestPath));
    const host = await this.target(guestPath);
    await this.clear(host);
    await symlink(target, host);
  }

  async read(guestPath: string): Promise<string> {
    return readFile(await hostPathIn(this.root, guestPath), 'utf8');
  }

  async write(guestPath: string, text: string): Promise<void> {
    const host = await hostPathIn(this.root, guestPath);
    const st = await stat(host);
    await writeFile(host, text);
    await chmod(host, st.mode & 0o7777);
  }
}

/** Root's account: shell /bin/sh and no usable password ('*', not empty: dropbear refuses blank passwords); the workload's own account added. */
export function editPasswd(text: string): string {
  const lines = text
    .split('\n')
    .filter((l) => !l.startsWith(`${WORKLOAD_USER.name}:`))
    .map((l) => {
      const f = l.split(':');
      if (f[0] !== 'root' || f.length < 7) return l;
      f[6] = '/bin/sh';
      return f.join(':');
    });
  return appendLine(lines, `${WORKLOAD_USER.name}:x:${WORKLOAD_USER.uid}:${WORKLOAD_USER.gid}:vmbench workload:/nonexistent:/usr/sbin/nologin`);
}

/** The workload's group. */
export function editGroup(text: string): string {
  const lines = text.split('\n').filter((l) => !l.startsWith(`${WORKLOAD_USER.name}:`));
  return appendLine(lines, `${WORKLOAD_USER.name}:x:${WORKLOAD_USER.gid}:`);
}

function appendLine(lines: string[], line: string): string {
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return [...lines, line, ''].join('\n');
}

export function editShadow(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      const f = l.split(':');
      if (f[0] !== 'root' || f.length < 2) return l;
      f[1] = '*';
      return f.join(':');
    })
    .join('\n');
}

/**
 * Assemble the workload rootfs in `root` (empty dir) from the base tarball
 * and the inputs, fix every mtime, compute the digest and write it to
 * /etc/vmbench/rootfs.sha256. Returns the digest.
 */
export async function assembleRootfs(root: string, inputs: RootfsInputs): Promise<{ digest: string }> {
  await runCommand('tar', ['--numeric-owner', '-xpf', inputs.baseTarball, '-C', root], { what: 'tar -x (base rootfs)' });
  const w = new RootfsWriter(root);

  await w.file(GUEST_NODE, { src: inputs.nodeBinary }, 0o755);
  await w.dir(GUEST_APP_DIR);
  for (const f of inputs.serverFiles) await w.file(`${GUEST_APP_DIR}/${f.name}`, { src: f.src }, 0o644);
  for (const f of inputs.ortFiles) {
    const exec = /\.(node|so(\.\d+)*)$/.test(f.dest) || f.dest.includes('/bin/');
    await w.file(f.dest, { src: f.src }, exec ? 0o755 : 0o644);
  }
  await w.file(GUEST_MODEL, { src: inputs.modelFile }, 0o644);
  await w.file(GUEST_BUSYBOX, { src: inputs.busybox }, 0o755);
  for (const t of rootfsTextFiles(inputs.gpu)) await w.file(t.path, { data: t.text }, t.mode);
  for (const l of POWEROFF_LINKS) await w.link(l, GUEST_POWEROFF_PATH.slice(GUEST_POWEROFF_PATH.lastIndexOf('/') + 1));

  // SSH: fixed host key, sftp-server where dropbear looks, root usable by key only.
  const keyDir = await w.dir(dirname(GUEST_HOST_KEY));
  for (const n of await readdir(keyDir)) if (/_host_key$/.test(n)) await rm(join(keyDir, n), { force: true });
  await w.file(GUEST_HOST_KEY, { src: inputs.hostKey }, 0o600);
  if (!(await stat(await hostPathIn(root, SFTP_SERVER)).catch(() => undefined))) {
    throw new BenchError('infrastructure', `the base rootfs has no ${SFTP_SERVER}`, {
      hint: 'delete <cache>/base and rebuild (openssh-sftp-server is in the base package list)',
    });
  }
  for (const l of SFTP_LINKS) await w.link(l, SFTP_SERVER);
  await w.write('/etc/passwd', editPasswd(await w.read('/etc/passwd')));
  await w.write('/etc/group', editGroup(await w.read('/etc/group')));
  await w.write('/etc/shadow', editShadow(await w.read('/etc/shadow')));
  await chmod(await w.dir('/root', 0o700), 0o700);
  await chmod(await w.dir('/root/.ssh', 0o700), 0o700);
  for (const d of ['/dev', '/proc', '/sys', '/run', '/tmp']) await w.dir(d);
  await chmod(await hostPathIn(root, '/tmp'), 0o1777);
  await w.dir(dirname(GUEST_DIGEST_FILE));

  await fixMtimes(root);
  const digest = await computeRootfsDigest(root);
  await w.file(GUEST_DIGEST_FILE, { data: `${digest}\n` }, 0o644);
  const digestHost = await hostPathIn(root, GUEST_DIGEST_FILE);
  await lutimes(digestHost, FIXED_MTIME_S, FIXED_MTIME_S);
  await lutimes(dirname(digestHost), FIXED_MTIME_S, FIXED_MTIME_S);
  return { digest };
}
