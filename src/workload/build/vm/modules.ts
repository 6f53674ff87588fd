import { BenchError } from '../../../errors.js';
/**
 * Kernel module bookkeeping for the initramfs: which modules a virtio guest
 * needs, and in which order busybox `insmod` (no dependency resolution) must
 * load them, from the kernel's own modules.dep / modules.builtin.
 */

/** What the guest needs from the kernel: a virtio disk and NIC on -M pc (PCI) or microvm (MMIO). */
export const WANTED_MODULES = ['virtio_pci', 'virtio_mmio', 'virtio_blk', 'virtio_net'] as const;
/** Needed only when the kernel does not build ext4 in (the cloud kernel does). */
export const ROOT_FS_MODULE = 'ext4';

/** Module name from a path like kernel/drivers/net/virtio_net.ko.xz → virtio_net. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** modules.dep: "<path>: <dep path> <dep path>…" → name → {path, deps (names)}. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const out = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const idx = line.indexOf(':');
    if (idx <= 0) continue;
    const path = line.slice(0, idx).trim();
    const deps = line.slice(idx + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    out.set(moduleName(path), { path, deps });
  }
  return out;
}

/** modules.builtin: one path per line → set of names. */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter(Boolean).map(moduleName));
}

export interface ModulePlanEntry {
  name: string;
  /** Path relative to lib/modules/<release>/ */
  path: string;
}

/**
 * The modules to load, dependencies first (depth-first post-order, stable in
 * the order `wanted` lists them). Built-in modules are skipped. A wanted module
 * that is neither built in nor in modules.dep is an error.
 */
export function resolveModuleOrder(
  wanted: readonly string[],
  dep: Map<string, { path: string; deps: string[] }>,
  builtin: Set<string>,
): { order: ModulePlanEntry[]; builtin: string[] } {
  const order: ModulePlanEntry[] = [];
  const seen = new Set<string>();
  const builtinHit: string[] = [];
  const visit = (name: string, chain: string[]): void => {
    if (seen.has(name)) return;
    if (chain.includes(name)) throw new BenchError('infrastructure', `module dependency cycle: ${[...chain, name].join(' -> ')}`);
    if (builtin.has(name)) {
      seen.add(name);
      builtinHit.push(name);
      return;
    }
    const entry = dep.get(name);
    if (!entry) throw new BenchError('infrastructure', `kernel module ${name} is neither built in nor in modules.dep${chain.length ? ` (needed by ${chain.at(-1)})` : ''}`);
    for (const d of entry.deps) visit(d, [...chain, name]);
    seen.add(name);
    order.push({ name, path: entry.path });
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), []);
  return { order, builtin: builtinHit };
}
