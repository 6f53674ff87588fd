import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';

/**
 * OCI runtimes registered with the Docker Engine (daemon.json "runtimes", or
 * --add-runtime): runc, crun, runsc (gVisor), kata-runtime on a KVM host, …
 * A container picks one with HostConfig.Runtime.
 */

export interface EngineRuntime {
  name: string;
  path: string;
  runtimeArgs: string[];
}

export async function engineRuntimes(docker: Dockerode): Promise<Map<string, EngineRuntime>> {
  let info: { Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }>; DefaultRuntime?: string };
  try {
    info = (await docker.info()) as typeof info;
  } catch (cause) {
    throw new BenchError('infrastructure', `Docker Engine does not answer: ${messageOf(cause)}`, { cause });
  }
  const out = new Map<string, EngineRuntime>();
  for (const [name, r] of Object.entries(info.Runtimes ?? {})) out.set(name, { name, path: r.path ?? name, runtimeArgs: r.runtimeArgs ?? [] });
  return out;
}

/** What a sample records about the runtime that ran it (version read from its binary, once per run). */
export interface RuntimeFacts {
  runtime: string;
  runtimeVersion: string;
  runtimePath: string;
  runtimeArgs: string;
  /** gVisor: its platform (ptrace, systrap, kvm) and how the sandbox reaches the network. */
  gvisorPlatform?: string;
  gvisorNetwork?: 'sandbox netstack' | 'host passthrough' | 'none';
}

/** The value of a `--flag=value` (or `--flag value`) runtime argument. */
export function runtimeArg(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
    if (a === `--${flag}`) return args[i + 1];
  }
  return undefined;
}

export function isGvisor(r: Pick<EngineRuntime, 'name' | 'path'>): boolean {
  return r.name === 'runsc' || r.path.endsWith('/runsc') || r.path === 'runsc';
}

export async function runtimeFacts(r: EngineRuntime): Promise<RuntimeFacts> {
  const v = await execa(r.path, ['--version'], { reject: false, timeout: 10_000 }).catch(() => null);
  const firstLine = (String(v?.stdout || v?.stderr || '').split('\n')[0] ?? '').trim();
  const facts: RuntimeFacts = {
    runtime: r.name,
    runtimeVersion: firstLine || 'unknown',
    runtimePath: r.path,
    runtimeArgs: r.runtimeArgs.join(' '),
  };
  if (isGvisor(r)) {
    facts.gvisorPlatform = runtimeArg(r.runtimeArgs, 'platform') ?? 'ptrace';
    const net = runtimeArg(r.runtimeArgs, 'network') ?? 'sandbox';
    facts.gvisorNetwork = net === 'host' ? 'host passthrough' : net === 'none' ? 'none' : 'sandbox netstack';
  }
  return facts;
}
