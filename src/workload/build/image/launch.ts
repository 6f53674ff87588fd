import { BenchError } from '../../../errors.js';
import { DEFAULT_PATH, type ImageLaunch } from '../../image-workload.js';

/**
 * How an image's server is started: the image's own config (Entrypoint, Cmd,
 * Env, WorkingDir, User, ExposedPorts, StopSignal) with the scenario's
 * overrides applied the way `docker run` applies its flags, and the user
 * resolved against the image's /etc/passwd and /etc/group the way the
 * container runtime does. Pure.
 */

/** The `config` object of an image config (OCI image-spec; Docker's inspect Config has the same keys). */
export interface ImageRuntimeConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string | null;
  User?: string | null;
  ExposedPorts?: Record<string, unknown> | null;
  StopSignal?: string | null;
}

export interface LaunchOverrides {
  /** Replaces the image's CMD (`docker run IMAGE ARGS…`). */
  command?: string[];
  /** Replaces the image's ENTRYPOINT and clears its CMD (`docker run --entrypoint`). */
  entrypoint?: string[];
  /** Added to the image's environment, replacing a variable of the same name. */
  env?: Record<string, string>;
  port?: number;
  user?: string;
  workdir?: string;
}

function envName(kv: string): string {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
}

/** The image's exposed TCP ports, sorted. */
export function exposedTcpPorts(ports: Record<string, unknown> | null | undefined): number[] {
  return Object.keys(ports ?? {})
    .map((k) => /^(\d+)(?:\/tcp)?$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export function resolveLaunch(config: ImageRuntimeConfig, o: LaunchOverrides, ref: string): ImageLaunch {
  const entrypoint = o.entrypoint ?? config.Entrypoint ?? [];
  const cmd = o.command ?? (o.entrypoint ? [] : (config.Cmd ?? []));
  if (entrypoint.length + cmd.length === 0) {
    throw new BenchError('input', `image ${ref} has neither ENTRYPOINT nor CMD: vmbench does not know how to start its server`, {
      hint: 'give the command in the scenario: workload.command: [/path/to/server, --flag]',
    });
  }
  const env = [...(config.Env ?? [])];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    const i = env.findIndex((kv) => envName(kv) === k);
    if (i >= 0) env[i] = `${k}=${v}`;
    else env.push(`${k}=${v}`);
  }
  if (!env.some((kv) => envName(kv) === 'PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  let port = o.port;
  if (port === undefined) {
    const exposed = exposedTcpPorts(config.ExposedPorts);
    if (exposed.length !== 1) {
      throw new BenchError('input', `image ${ref} exposes ${exposed.length === 0 ? 'no TCP port' : `several TCP ports (${exposed.join(', ')})`}: which one does its server listen on?`, {
        hint: 'say it in the scenario: workload.port: 8000',
      });
    }
    port = exposed[0]!;
  }
  const workingDir = o.workdir ?? (config.WorkingDir || '/');
  if (!workingDir.startsWith('/')) throw new BenchError('input', `image ${ref}: the working directory ${JSON.stringify(workingDir)} is not absolute`);
  return { entrypoint, cmd, env, workingDir, user: o.user ?? config.User ?? '', port, stopSignal: config.StopSignal || 'SIGTERM' };
}

/** A user as the server runs as it. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups (besides gid). */
  groups: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

function parseGroup(text: string): Array<{ name: string; gid: number; members: string[] }> {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

/**
 * Docker's USER semantics (runc's GetExecUser): a name must be in
 * /etc/passwd; a number need not be (then gid 0 and home /); ":group" sets
 * the primary group; supplementary groups are the /etc/group entries that
 * list the user by name.
 */
export function resolveUser(user: string, passwd: string, group: string, ref: string): ResolvedUser {
  const [u = '', g] = user.split(':', 2);
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (u === '') {
    entry = users.find((e) => e.uid === 0);
    uid = 0;
  } else if (/^\d+$/.test(u)) {
    uid = Number(u);
    entry = users.find((e) => e.uid === uid);
  } else {
    entry = users.find((e) => e.name === u);
    if (!entry) {
      throw new BenchError('input', `image ${ref}: user ${JSON.stringify(u)} is not in the image's /etc/passwd (the container runtime would refuse it too)`, {
        hint: 'give a numeric user (workload.user: "1000:1000") or one the image defines',
      });
    }
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const found = groups.find((x) => x.name === g);
      if (!found) throw new BenchError('input', `image ${ref}: group ${JSON.stringify(g)} is not in the image's /etc/group`);
      gid = found.gid;
    }
  }
  const supplementary = entry ? groups.filter((x) => x.members.includes(entry.name) && x.gid !== gid).map((x) => x.gid) : [];
  return { uid, gid, groups: [...new Set(supplementary)].sort((a, b) => a - b), home: entry?.home ?? '/' };
}
