import type { IsolationFacts } from '../../results/run-record.js';
import { kernelOf } from '../claims/isolation.js';
import type { RunView } from '../run-view.js';

/** The facts of the isolation table, in the order a reader checks them. */
const ROWS: ReadonlyArray<[title: string, cell: (f: IsolationFacts) => string]> = [
  ['kernel', (f) => (f.sharedKernel ? `shared with the host (${f.kernelRelease})` : `own: ${f.kernelRelease} (host ${f.hostKernelRelease})`)],
  ['capabilities (effective)', (f) => `${f.capabilities} (CapEff ${f.capEff})`],
  ['seccomp', (f) => f.seccomp],
  ['no_new_privs', (f) => (f.noNewPrivs ? 'yes' : 'no')],
  ['user namespace', (f) => (f.userNamespace ? `yes (uid_map ${f.uidMap})` : `no (uid_map ${f.uidMap})`)],
  ['uid inside', (f) => String(f.uid)],
  ['host devices', (f) => (f.hostDevices.length ? f.hostDevices.join(', ') : 'none')],
  ['runtime', (f) => `${f.runtime}${f.runtimeVersion ? ` ${f.runtimeVersion}` : ''}${f.gvisorPlatform ? ` (platform ${f.gvisorPlatform})` : ''}`],
  ['network (as the instance saw it)', (f) => f.network ?? '—'],
];

/**
 * The isolation table of a run: one column per substrate, one row per fact
 * read inside its instance; a substrate without facts shows "not measured"
 * (its kernel row says what its kind implies, and that it is inferred).
 * Null when no substrate was measured. Pure.
 */
export function isolationTable(view: RunView): { header: string[]; rows: string[][] } | null {
  const facts = view.run.record.isolation ?? {};
  if (!view.substrates.some((s) => facts[s.platform])) return null;
  const header = ['', ...view.substrates.map((s) => `${s.platform}${s.platform === view.reference ? ' (reference)' : ''}`)];
  const rows = ROWS.map(([title, cell]) => [
    title,
    ...view.substrates.map((s) => {
      const f = facts[s.platform];
      if (f) return cell(f);
      if (title === 'kernel') {
        const k = kernelOf(view.run, s);
        return `not measured (${k.ownKernel ? 'own kernel' : 'shared'}: ${k.provenance})`;
      }
      return 'not measured';
    }),
  ]);
  return { header, rows };
}
