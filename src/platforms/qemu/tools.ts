import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';

/** Facts about the host's QEMU installation and /dev/kvm. */

export const QEMU_SYSTEM = 'qemu-system-x86_64';
export const QEMU_IMG = 'qemu-img';

/** Absolute path of an executable on PATH, or null. */
export async function which(cmd: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface QemuTools {
  qemuSystem: string;
  qemuImg: string;
  /** e.g. "7.2.22" */
  version: string;
  /** Full first line, e.g. "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" */
  versionLine: string;
}

/** Find qemu-system-x86_64 and qemu-img; BenchError('unsupported') when either is missing. */
export async function findQemuTools(): Promise<QemuTools> {
  const [qemuSystem, qemuImg] = await Promise.all([which(QEMU_SYSTEM), which(QEMU_IMG)]);
  const missing = [!qemuSystem && QEMU_SYSTEM, !qemuImg && QEMU_IMG].filter(Boolean);
  if (!qemuSystem || !qemuImg) {
    throw new BenchError('unsupported', `QEMU is not installed: ${missing.join(' and ')} not found on PATH`, {
      hint: 'run ./scripts/setup.sh (installs qemu-system-x86 and qemu-utils)',
    });
  }
  let versionLine: string;
  try {
    const r = await execa(qemuSystem, ['--version'], { timeout: 10_000 });
    versionLine = r.stdout.split('\n')[0]?.trim() ?? '';
  } catch (err) {
    throw new BenchError('unsupported', `${qemuSystem} --version failed: ${messageOf(err)}`, {
      hint: 'run ./scripts/setup.sh',
      cause: err,
    });
  }
  const m = /version\s+([0-9][0-9.]*)/.exec(versionLine);
  return { qemuSystem, qemuImg, version: m?.[1] ?? versionLine, versionLine };
}

/** null when /dev/kvm can be opened read-write, else why not. */
export async function kvmAccessProblem(path = '/dev/kvm'): Promise<string | null> {
  try {
    await access(path, constants.R_OK | constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} is not accessible (${code ?? messageOf(err)})`;
  }
}

export async function bootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}
