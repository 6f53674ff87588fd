import { BenchError } from '../../errors.js';
import { HostRegistry } from '../../platforms/remote/remote-host.js';
import { hostSchema, parseHostFlag, type HostConfig } from '../../scenario/hosts.js';
import { loadScenarioFile } from '../../scenario/load.js';

/**
 * `--host` on the command line: `NAME=URL` (a host added to, or replacing the
 * URL of one in, the scenario's hosts:) or, for commands without a scenario
 * to run (doctor, gc), a bare `NAME` looked up in `--scenario FILE`'s hosts:.
 */

/** commander's collector for a repeatable option. */
export function collectHost(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** NAME=URL flags, checked (exit 2 with the flag named when malformed). */
export function hostFlags(values: readonly string[] = []): { name: string; url: string }[] {
  return values.map((v) => {
    const parsed = parseHostFlag(v);
    if (typeof parsed === 'string') throw new BenchError('usage', parsed, { hint: 'e.g. --host kvm-box=ssh://bench@10.0.0.5:22' });
    return parsed;
  });
}

/** The hosts a doctor/gc command names: NAME=URL flags as they are, bare NAMEs from the scenario file's hosts:. */
export async function namedHosts(values: readonly string[], scenarioFile?: string): Promise<Record<string, HostConfig>> {
  const withUrl = hostFlags(values.filter((v) => v.includes('=')));
  const bare = values.filter((v) => !v.includes('='));
  const fromFile = scenarioFile ? ((await loadScenarioFile(scenarioFile, { hosts: withUrl })).scenario.hosts ?? {}) : {};
  const out: Record<string, HostConfig> = {};
  for (const f of withUrl) out[f.name] = fromFile[f.name] ?? hostSchema.parse({ url: f.url });
  for (const name of bare) {
    const h = fromFile[name];
    if (!h) {
      throw new BenchError('usage', `--host ${name}: no host of that name${scenarioFile ? ` under hosts: in ${scenarioFile}` : ''}`, {
        hint: scenarioFile ? `the file defines: ${Object.keys(fromFile).join(', ') || 'no hosts'}` : 'give its URL (--host NAME=ssh://user@host) or --scenario FILE that defines it',
      });
    }
    out[name] = h;
  }
  return out;
}

/** A registry for the hosts, closed when fn is done. */
export async function withHosts<T>(hosts: Record<string, HostConfig>, ctx: { cacheDir: string; log?: (l: string) => void }, fn: (r: HostRegistry) => Promise<T>): Promise<T> {
  const registry = new HostRegistry(hosts, ctx);
  try {
    return await fn(registry);
  } finally {
    registry.close();
  }
}
