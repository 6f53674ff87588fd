import type { IsolationFacts } from './run-record.js';
import type { Sample } from './sample.js';

/**
 * run.json's isolation table, from the isolation samples (one per platform;
 * the facts travel in the sample's metadata, as every sample's do).
 */
export function isolationFromSamples(samples: readonly Sample[]): Record<string, IsolationFacts> | undefined {
  const out: Record<string, IsolationFacts> = {};
  for (const s of samples) {
    if (s.metric !== 'isolation_capabilities' || s.warmup) continue;
    const m = s.metadata;
    const str = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : '');
    const facts: IsolationFacts = {
      kernelRelease: str('kernelRelease'),
      hostKernelRelease: str('hostKernelRelease'),
      sharedKernel: m.sharedKernel === true,
      capEff: str('capEff'),
      capabilities: s.value,
      seccomp: (['disabled', 'strict', 'filter'] as const).find((x) => x === m.seccomp) ?? 'unknown',
      noNewPrivs: m.noNewPrivs === true,
      uidMap: str('uidMap'),
      userNamespace: m.userNamespace === true,
      uid: typeof m.uid === 'number' ? m.uid : -1,
      hostDevices: str('hostDevices').split(' ').filter(Boolean),
      runtime: str('runtime') || 'unknown',
    };
    if (typeof m.runtimeVersion === 'string') facts.runtimeVersion = m.runtimeVersion;
    if (typeof m.gvisorPlatform === 'string') facts.gvisorPlatform = m.gvisorPlatform;
    if (typeof m.network === 'string') facts.network = m.network;
    out[s.platform] = facts;
  }
  return Object.keys(out).length ? out : undefined;
}
