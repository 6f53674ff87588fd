/**
 * Colours per substrate, stable across every chart of a report: each platform
 * kind has its own hue family (Docker blues, QEMU oranges, Vagrant greens),
 * and the n-th series of a kind (in series order) takes the n-th shade. So a
 * container is always blue and a VM always orange/green, whatever the number
 * of platforms or runs. Pure.
 */
const FAMILIES: Record<string, readonly string[]> = {
  docker: ['#1f77b4', '#6baed6', '#08306b', '#4292c6', '#9ecae1'],
  qemu: ['#e6550d', '#fdae6b', '#7f2704', '#fd8d3c', '#a63603'],
  vagrant: ['#2ca02c', '#74c476', '#00441b', '#41ab5d', '#a1d99b'],
};
const OTHER = ['#756bb1', '#9e9ac8', '#54278f', '#636363', '#969696'];

/** Colours for series of the given kinds, in order. */
export function paletteFor(kinds: readonly string[]): string[] {
  const used = new Map<string, number>();
  return kinds.map((kind) => {
    const family = FAMILIES[kind] ?? OTHER;
    const i = used.get(kind) ?? 0;
    used.set(kind, i + 1);
    return family[i % family.length]!;
  });
}
