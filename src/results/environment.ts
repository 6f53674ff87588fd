import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where the numbers came from. Platform facts (engine/QEMU versions, accelerator) are added per platform. */
export interface Environment {
  hostname: string;
  kernel: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  vmbenchVersion: string;
  git: { commit: string | null; dirty: boolean | null };
  bootId: string | null;
  platforms: Record<string, Record<string, string | number | boolean | null>>;
  /**
   * The fingerprint of each remote host a platform ran on (its kernel, CPU,
   * memory, OS, host key, the controller ↔ host round trip), by the
   * scenario's host name; the fields above are the controller's. Absent when
   * everything ran here.
   */
  hosts?: Record<string, Record<string, string | number | boolean | null>>;
  rootfsDigest: string | null;
  artifactId: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function osPrettyName(): string {
  const text = readText('/etc/os-release') ?? '';
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

function gitState(cwd: string): Environment['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** Reads the host fingerprint (I/O: /proc, os, git). */
export function hostEnvironment(projectDir: string, vmbenchVersion: string): Environment {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    os: osPrettyName(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    vmbenchVersion,
    git: gitState(projectDir),
    bootId: readText('/proc/sys/kernel/random/boot_id'),
    platforms: {},
    rootfsDigest: null,
    artifactId: null,
  };
}
