import { BenchError } from '../errors.js';
import type { Instance, Platform } from '../platforms/platform.js';

/** The first look waits this long, so a fast startup is never timed with an engine query beside it. */
const FIRST_LOOK_MS = 2_000;
const EVERY_MS = 1_000;

export interface DeathWatch {
  /** For a poll's `check`: throws once the instance is known to be dead. */
  check: () => void;
  stop: () => void;
}

/**
 * Watches an instance while the harness waits for it (readiness, first
 * inference): a container OOM-killed or a QEMU killed with -9 ends the wait at
 * once, as instance_died / oom_killed, instead of after the whole timeout.
 * Platforms without postMortem() are not watched.
 */
export function watchForDeath(platform: Platform, instance: Instance): DeathWatch {
  if (!platform.postMortem) return { check: () => undefined, stop: () => undefined };
  let dead: BenchError | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const look = async () => {
    const pm = await platform.postMortem!(instance).catch(() => null);
    if (pm) dead = new BenchError('infrastructure', `${platform.name}: ${instance.id}: ${pm.detail}`, { category: pm.category });
    else if (!stopped) timer = setTimeout(() => void look(), EVERY_MS);
  };
  timer = setTimeout(() => void look(), FIRST_LOOK_MS);
  return {
    check: () => {
      if (dead) throw dead;
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
