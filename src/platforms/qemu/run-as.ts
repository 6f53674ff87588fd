import { readFileSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * QEMU without root: when the harness runs as root and the host has the
 * `vmbench-qemu` system user (./scripts/setup.sh creates it), every QEMU is
 * started as that user — never privileged, so no `-runas` (which would need
 * the setuid calls QEMU's sandbox denies with elevateprivileges=deny) — with
 * the kvm group as its group where there is one, for /dev/kvm. The harness
 * hands it the directories it writes (scratch, snapshot) and the files it
 * must change (its overlay, a restored disk).
 */
export const QEMU_USER = 'vmbench-qemu';

export interface QemuIdentity {
  uid: number;
  gid: number;
  /** For the platform facts: who QEMU runs as, and why. */
  describe: string;
}

function lookup(file: string, name: string): string[] | null {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? line.split(':') : null;
  } catch {
    return null;
  }
}

/** Who QEMU will run as on this host, given files it must read; null: as the harness itself. */
export async function resolveQemuIdentity(mustRead: readonly string[], etc = '/etc'): Promise<{ identity: QemuIdentity | null; describe: string }> {
  const me = process.getuid?.() ?? -1;
  if (me !== 0) return { identity: null, describe: `qemu runs as the harness's own user (uid ${me}), not root` };
  const user = lookup(`${etc}/passwd`, QEMU_USER);
  if (!user) return { identity: null, describe: `qemu runs as root: no ${QEMU_USER} user (./scripts/setup.sh creates it)` };
  const uid = Number(user[2]);
  const kvm = lookup(`${etc}/group`, 'kvm');
  const gid = kvm ? Number(kvm[2]) : Number(user[3]);
  for (const path of mustRead) {
    const r = await execa('test', ['-r', path], { uid, gid, reject: false, timeout: 10_000 });
    if (r.exitCode !== 0) return { identity: null, describe: `qemu runs as root: ${QEMU_USER} cannot read ${path} (a parent directory is closed to other users)` };
  }
  const describe = `qemu runs as ${QEMU_USER} (uid ${uid}, gid ${gid}${kvm ? ' kvm' : ''}), never root`;
  return { identity: { uid, gid, describe }, describe };
}

/** Give QEMU's user the paths it writes. */
export async function handOver(identity: QemuIdentity | null, ...paths: string[]): Promise<void> {
  if (!identity) return;
  for (const p of paths) await chown(p, identity.uid, identity.gid);
}
