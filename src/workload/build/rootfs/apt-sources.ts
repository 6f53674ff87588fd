import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchError } from '../../../errors.js';

/** One `deb` source as apt sees it (either file format). */
export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  /** Where it came from, for messages. */
  origin: string;
}

export interface DebianMirror {
  /** Mirror URI, without a trailing slash, e.g. http://deb.debian.org/debian */
  uri: string;
  /** Host release codename, e.g. bookworm */
  suite: string;
}

/** VERSION_CODENAME from an os-release text. */
export function parseOsReleaseCodename(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*VERSION_CODENAME\s*=\s*"?([^"\s]*)"?\s*$/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** Parse deb822 `.sources` text: stanzas separated by blank lines; `#` comments; continuation lines. */
export function parseDeb822Sources(text: string, origin = 'deb822'): AptSource[] {
  const out: AptSource[] = [];
  const stanzas: Array<Map<string, string>> = [];
  let cur = new Map<string, string>();
  let lastKey: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (cur.size) stanzas.push(cur);
      cur = new Map();
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(line) && lastKey) {
      cur.set(lastKey, `${cur.get(lastKey) ?? ''} ${line.trim()}`);
      continue;
    }
    const idx = line.indexOf(':');
    if (idx <= 0) continue;
    lastKey = line.slice(0, idx).trim().toLowerCase();
    cur.set(lastKey, line.slice(idx + 1).trim());
  }
  if (cur.size) stanzas.push(cur);
  for (const st of stanzas) {
    const words = (k: string) => (st.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb')) continue;
    const enabled = (st.get('enabled') ?? 'yes').toLowerCase();
    if (enabled === 'no' || enabled === 'false') continue;
    out.push({ uris: words('uris'), suites: words('suites'), components: words('components'), origin });
  }
  return out;
}

/** Parse one-line-style sources.list text: `deb [opts] uri suite comp…`. */
export function parseOneLineSources(text: string, origin = 'sources.list'): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m || m[1] !== 'deb') continue;
    out.push({ uris: [m[2]!], suites: [m[3]!], components: (m[4] ?? '').split(/\s+/).filter(Boolean), origin });
  }
  return out;
}

/**
 * The mirror serving the host's own release: the first `deb` source (in apt's
 * reading order) whose suites include exactly `suite` and whose components
 * include `main`; http(s) preferred over other schemes.
 */
export function pickMirror(sources: readonly AptSource[], suite: string): string | undefined {
  const candidates: string[] = [];
  for (const s of sources) {
    if (!s.suites.includes(suite)) continue;
    if (s.components.length && !s.components.includes('main')) continue;
    for (const u of s.uris) if (/^(https?|ftp|file):/.test(u)) candidates.push(u.replace(/\/+$/, ''));
  }
  return candidates.find((u) => /^https?:/.test(u)) ?? candidates[0];
}

/** Reads apt's configured sources the way apt does (sources.list, then sources.list.d/*.list|*.sources in name order). */
export async function readAptSources(root = '/'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = join(root, 'etc/apt/sources.list');
  const text = await readFile(main, 'utf8').catch(() => undefined);
  if (text !== undefined) out.push(...parseOneLineSources(text, main));
  const dir = join(root, 'etc/apt/sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const file = join(dir, name);
    if (name.endsWith('.list')) out.push(...parseOneLineSources(await readFile(file, 'utf8'), file));
    else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(await readFile(file, 'utf8'), file));
  }
  return out;
}

/** The host's Debian codename and the apt mirror serving it. */
export async function hostDebianMirror(root = '/'): Promise<DebianMirror> {
  const osRelease = await readFile(join(root, 'etc/os-release'), 'utf8').catch(() => '');
  const suite = parseOsReleaseCodename(osRelease);
  if (!suite) {
    throw new BenchError('unsupported', 'cannot tell the host Debian release (no VERSION_CODENAME in /etc/os-release)', {
      hint: 'build the artifact on a Debian host (bookworm or later)',
    });
  }
  const uri = pickMirror(await readAptSources(root), suite);
  if (!uri) {
    throw new BenchError('infrastructure', `no apt source for "${suite}" main found in /etc/apt/sources.list(.d)`, {
      hint: `add a "deb <mirror> ${suite} main" source for apt, then run apt-get update`,
    });
  }
  return { uri, suite };
}
