import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BenchError } from '../../../errors.js';
import { LOOPBACK } from '../../host/ports.js';
import type { ResolvedHost } from '../remote-host.js';

/**
 * How Vagrant and virsh on this machine reach a remote host's libvirt: its
 * own `qemu+ssh://user@host:port/system` URI, with the host's key and
 * known_hosts file enforced by an ssh wrapper libvirt is told to use
 * (`?command=`; libvirt's ssh transport has no known_hosts option of its
 * own for OpenSSH), and `?socket=` for a libvirtd that is not the system
 * daemon. The same wrapper is Vagrant's ProxyCommand to the guest's SSH
 * forward on that host's 127.0.0.1.
 */
export interface RemoteLibvirt {
  uri: string;
  sshWrapper: string;
  /** Vagrant's ProxyCommand to a port on the host's loopback. */
  proxyCommand(port: number): string;
}

/** Paths that go into a URI and a shell line unquoted. */
const SAFE_PATH = /^[A-Za-z0-9/._+-]+$/;

function safe(what: string, p: string): string {
  if (!SAFE_PATH.test(p)) {
    throw new BenchError('input', `host: ${what} ${JSON.stringify(p)} must consist of letters, digits and / . _ + - to go into a libvirt URI`);
  }
  return p;
}

/** The wrapper's text (pure). */
export function sshWrapperScript(h: ResolvedHost): string {
  return [
    '#!/bin/sh',
    `# Written by vmbench for host ${h.name}: libvirt (qemu+ssh://) and Vagrant's ProxyCommand reach it with this key and known_hosts only.`,
    `exec ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=15 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 \\`,
    `  -o UserKnownHostsFile=${safe('known_hosts', h.knownHostsPath)} -o StrictHostKeyChecking=${h.strict ? 'yes' : 'no'} -i ${safe('key', h.keyPath)} "$@"`,
    '',
  ].join('\n');
}

/** The URI (pure). */
export function libvirtUri(h: ResolvedHost, sshWrapper: string): string {
  const host = h.hostname.includes(':') ? `[${h.hostname}]` : h.hostname;
  const params = [`command=${safe('ssh wrapper', sshWrapper)}`, 'no_tty=1'];
  if (h.libvirt.socket) params.push(`socket=${safe('libvirt.socket', h.libvirt.socket)}`);
  return `qemu+ssh://${h.user}@${host}:${h.port}/system?${params.join('&')}`;
}

export async function remoteLibvirt(h: ResolvedHost, cacheDir: string): Promise<RemoteLibvirt> {
  const dir = join(resolve(cacheDir), 'remote-libvirt', h.name);
  await mkdir(dir, { recursive: true });
  const sshWrapper = join(dir, 'ssh');
  await writeFile(sshWrapper, sshWrapperScript(h), { mode: 0o755 });
  const host = h.hostname.includes(':') ? `[${h.hostname}]` : h.hostname;
  return {
    uri: libvirtUri(h, sshWrapper),
    sshWrapper,
    proxyCommand: (port) => `${sshWrapper} -p ${h.port} -l ${h.user} ${host} -W ${LOOPBACK}:${port}`,
  };
}
