import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { BenchError } from '../../errors.js';
import type { Artifact } from '../../workload/artifact.js';
import type { SshSession } from './ssh.js';

/**
 * What the two QEMU-based substrates (QEMU started directly, and QEMU started
 * by libvirt for Vagrant) share about a guest booted from the artifact.
 */

/** The VM disk, kernel and initramfs must be readable before any instance is started. */
export async function assertVmArtifactFiles(artifact: Artifact): Promise<void> {
  for (const [what, p] of [
    ['disk', artifact.vm.disk],
    ['kernel', artifact.vm.kernel],
    ['initrd', artifact.vm.initrd],
  ] as const) {
    try {
      await access(p, constants.R_OK);
    } catch {
      throw new BenchError('infrastructure', `artifact ${artifact.id.slice(0, 12)}: VM ${what} ${p} is missing`, {
        hint: 'rebuild it: npx bench images build --force',
      });
    }
  }
}

/** `true` over one open SSH connection, `count` times (connection set-up not included); closes the session. */
export async function sshTrueRoundTrips(ssh: SshSession, count: number): Promise<number[]> {
  try {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push((await ssh.exec('true')).wallMs);
    return out;
  } finally {
    ssh.dispose();
  }
}
