/**
 * The scenario's `hosts:` section: the machines platforms run on. `local`
 * (this machine) always exists and is every platform's default; any other
 * host is reached over SSH (`ssh://user@host[:port]`) with key
 * authentication and the host key checked against a known_hosts file. A
 * platform names its host with `host:`; `--host NAME=URL` on the command
 * line adds a host or replaces one's URL (see mergeCliHosts()).
 */
import { z } from 'zod';
import { describeValue } from './units.js';

export const LOCAL_HOST = 'local';
export const HOST_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
const HOST_NAME_RE = new RegExp(HOST_NAME_PATTERN);

/** A parsed host URL: this machine, or an SSH target. */
export type HostUrl =
  | { kind: 'local' }
  | {
      kind: 'ssh';
      /** Login name; default: the controller's own user name. */
      user: string | null;
      /** Host name, IPv4 address or bracket-less IPv6 address. */
      hostname: string;
      port: number;
      /** `?key=` in the URL (private key path), when given. */
      key?: string;
      /** `?known_hosts=` in the URL, when given. */
      knownHosts?: string;
    };

const USER_RE = /^[a-z_][a-z0-9_.-]*\$?$/i;
const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export const HOST_URL_EXPECTED = 'expected "local" or "ssh://user@host[:port]" (optionally ?key=PATH&known_hosts=PATH)';

/** Parse a host URL, or say what is wrong with it (a message in the scenario's voice). */
export function parseHostUrl(text: string): HostUrl | string {
  if (text === LOCAL_HOST) return { kind: 'local' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${HOST_URL_EXPECTED}, got ${describeValue(text)}`;
  }
  if (url.protocol !== 'ssh:') return `${HOST_URL_EXPECTED}, got the scheme "${url.protocol.replace(/:$/, '')}" in ${describeValue(text)}`;
  if (url.password) return `expected no password in ${describeValue(text.replace(/:[^:@/]*@/, ':***@'))}: only key authentication is used (give the key with key: or ?key=)`;
  const user = url.username ? decodeURIComponent(url.username) : null;
  if (user !== null && !USER_RE.test(user)) return `expected a login name of letters, digits, "_", "-", ".", got ${describeValue(user)} in ${describeValue(text)}`;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname || !(HOSTNAME_RE.test(hostname) || /^[0-9a-f:]+$/i.test(hostname))) return `expected a host name or address in ${describeValue(text)}`;
  if (url.pathname !== '' && url.pathname !== '/') return `expected no path in ${describeValue(text)} (got "${url.pathname}")`;
  const port = url.port === '' ? 22 : Number(url.port);
  const out: HostUrl = { kind: 'ssh', user, hostname, port };
  for (const [k, v] of url.searchParams) {
    if (k === 'key') out.key = v;
    else if (k === 'known_hosts') out.knownHosts = v;
    else return `expected only ?key= and ?known_hosts= in ${describeValue(text)}, got "?${k}="`;
  }
  return out;
}

const hostUrlSchema = z
  .string({ error: (iss) => `${HOST_URL_EXPECTED}, got ${describeValue(iss.input)}` })
  .superRefine((text, ctx) => {
    const parsed = parseHostUrl(text);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed, input: text });
  })
  .meta({ description: 'local, or ssh://user@host[:port] (key authentication; ?key=PATH&known_hosts=PATH may stand in for the keys below).' });

const pathSchema = (what: string) =>
  z.string({ error: (iss) => `expected ${what}, got ${describeValue(iss.input)}` }).min(1, { error: () => `expected ${what}, got an empty string` });

export const hostSchema = z
  .strictObject({
    url: hostUrlSchema,
    key: pathSchema('the path of a private key file').optional().meta({
      description: 'Private key for SSH (~ expands to the home directory; default: ~/.ssh/id_ed25519, else ~/.ssh/id_ecdsa, else ~/.ssh/id_rsa).',
    }),
    known_hosts: pathSchema('the path of a known_hosts file').optional().meta({
      description: "Where the host's key must be listed (default ~/.ssh/known_hosts). Hashed entries and [host]:port entries are understood.",
    }),
    strict_host_key_checking: z.boolean().default(true).meta({
      description: 'Refuse a host whose key is not in known_hosts (default true). false connects anyway and records the key fingerprint it saw: never for a host you do not control.',
    }),
    work_dir: pathSchema('a directory on the host').optional().meta({
      description: "Where vmbench keeps artifacts (by digest), its helper and per-run scratch on that host (default ~/.cache/vmbench-host, in the remote user's home).",
    }),
    libvirt: z
      .strictObject({
        socket: pathSchema("the path of libvirtd's unix socket on that host").optional().meta({
          description: "libvirtd's socket on that host when it is not the system daemon's (the qemu+ssh:// URI's ?socket=; needs nc on the host).",
        }),
        pool: z.string().min(1).default('default').meta({ description: 'Storage pool there for box and domain volumes (default "default").' }),
        emulator: pathSchema('the path of a QEMU binary on that host').optional().meta({
          description: "QEMU binary libvirt runs there (libvirt's default when not given).",
        }),
      })
      .optional()
      .meta({ description: 'For kind: vagrant on this host: the libvirt reached over qemu+ssh:// with the same user, key and known_hosts.' }),
  })
  .meta({ description: 'A machine platforms can run on, reached over SSH.' });

export const hostsSchema = z
  .record(
    z.string().regex(HOST_NAME_RE, { error: (iss) => `expected a host name made of lower-case letters, digits, "-" and "_" (e.g. "kvm-box"), got ${describeValue(iss.input)}` }),
    hostSchema,
  )
  .superRefine((value, ctx) => {
    if (LOCAL_HOST in value) {
      ctx.addIssue({ code: 'custom', path: [LOCAL_HOST], message: `"${LOCAL_HOST}" is this machine and always defined; give the remote host another name` });
    }
  })
  .meta({ description: 'Remote hosts by name (a platform chooses one with host:). "local", this machine, is always defined.' });

export type HostConfig = z.output<typeof hostSchema>;
export type HostsConfig = z.output<typeof hostsSchema>;

/** What a platform's `host:` key accepts (the reference to a host is checked by hostReferenceIssues()). */
export const platformHostSchema = z
  .string({ error: (iss) => `expected the name of a host ("local" or one under hosts:), got ${describeValue(iss.input)}` })
  .regex(HOST_NAME_RE, { error: (iss) => `expected the name of a host ("local" or one under hosts:), got ${describeValue(iss.input)}` })
  .default(LOCAL_HOST)
  .meta({ description: 'The host this platform runs on: "local" (default) or a name under hosts:.' });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Platforms naming a host that is neither `local` nor under hosts: (raw data, like the other cross-field rules). */
export function hostReferenceIssues(raw: Record<string, unknown>): { path: (string | number)[]; message: string }[] {
  if (!Array.isArray(raw.platforms)) return [];
  const declared = isRecord(raw.hosts) ? Object.keys(raw.hosts) : [];
  const known = [LOCAL_HOST, ...declared];
  const out: { path: (string | number)[]; message: string }[] = [];
  raw.platforms.forEach((p: unknown, i) => {
    if (!isRecord(p) || typeof p.host !== 'string' || known.includes(p.host)) return;
    out.push({
      path: ['platforms', i, 'host'],
      message: `expected a host defined under hosts: (${known.map((k) => `"${k}"`).join(', ')}), got "${p.host}"; add it to hosts: or pass --host ${p.host}=ssh://user@host`,
    });
  });
  return out;
}

/** `--host NAME=URL` as given on the command line, parsed; a message for a malformed one. */
export function parseHostFlag(flag: string): { name: string; url: string } | string {
  const eq = flag.indexOf('=');
  if (eq <= 0) return `--host ${describeValue(flag)}: expected NAME=URL, e.g. --host kvm-box=ssh://bench@10.0.0.5`;
  const name = flag.slice(0, eq);
  const url = flag.slice(eq + 1);
  if (!HOST_NAME_RE.test(name)) return `--host ${describeValue(flag)}: expected a host name of lower-case letters, digits, "-" and "_", got ${describeValue(name)}`;
  if (name === LOCAL_HOST) return `--host ${describeValue(flag)}: "${LOCAL_HOST}" is this machine and cannot be redefined`;
  const parsed = parseHostUrl(url);
  if (typeof parsed === 'string') return `--host ${describeValue(flag)}: ${parsed}`;
  return { name, url };
}

/**
 * The raw `hosts:` mapping with the command line's hosts merged in: a flag
 * replaces the URL of a host the file defines (its key and known_hosts stay)
 * or adds a host of that name.
 */
export function mergeCliHosts(rawHosts: unknown, flags: readonly { name: string; url: string }[]): unknown {
  if (flags.length === 0) return rawHosts;
  const out: Record<string, unknown> = isRecord(rawHosts) ? { ...rawHosts } : {};
  for (const f of flags) {
    const existing = out[f.name];
    out[f.name] = isRecord(existing) ? { ...existing, url: f.url } : { url: f.url };
  }
  return out;
}
