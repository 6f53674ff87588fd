import os from 'node:os';
import { messageOf } from '../errors.js';
import { pinProcess } from '../platforms/host/pin.js';
import type { Instance, Platform } from '../platforms/platform.js';

/**
 * Keeps the load generator and the instance under test on different CPUs
 * where the host has enough of them, so the generator does not steal the
 * instance's CPU time. The instance gets the first `instanceCpus` CPUs, the
 * harness (and so the generator) the rest. Always says what it did.
 */
export interface Pinning {
  pinned: boolean;
  /** e.g. "instance 0, loadgen 1", or why nothing was pinned. */
  detail: string;
  /** Put the harness back on every CPU. */
  restore(): Promise<void>;
}

export function cpuList(from: number, to: number): string {
  return from === to ? String(from) : `${from}-${to}`;
}

/** Which CPUs each side gets, or null when there are not enough (pure). */
export function planPinning(hostCpus: number, instanceCpus: number): { instance: string; loadgen: string } | null {
  const need = Math.ceil(instanceCpus);
  if (need < 1 || hostCpus - need < 1) return null;
  return { instance: cpuList(0, need - 1), loadgen: cpuList(need, hostCpus - 1) };
}

export async function pinForLoad(platform: Platform, instance: Instance, instanceCpus: number): Promise<Pinning> {
  const hostCpus = os.cpus().length;
  const noop = async () => undefined;
  const plan = planPinning(hostCpus, instanceCpus);
  if (!plan) {
    return { pinned: false, detail: `not pinned: the instance has ${instanceCpus} of the host's ${hostCpus} CPUs, none left for the load generator`, restore: noop };
  }
  if (!platform.pinCpus) return { pinned: false, detail: `not pinned: ${platform.kind} cannot pin CPUs`, restore: noop };
  try {
    await platform.pinCpus(instance, plan.instance);
    await pinProcess(process.pid, plan.loadgen);
  } catch (err) {
    return { pinned: false, detail: `not pinned: ${messageOf(err).split('\n')[0]}`, restore: noop };
  }
  return {
    pinned: true,
    detail: `instance on CPU ${plan.instance}${instance.facts.pinnedBy ? ` (${String(instance.facts.pinnedBy)})` : ''}, load generator on CPU ${plan.loadgen}`,
    restore: async () => {
      await pinProcess(process.pid, cpuList(0, hostCpus - 1)).catch(() => undefined);
    },
  };
}
