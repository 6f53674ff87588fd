const MiB = 2 ** 20;

/** No host has more; a value beyond these is a typo, refused before any host is asked. */
export const LIMITS = { maxMemoryBytes: 16 * 2 ** 40, maxCpus: 1024, minVmMemoryBytes: 64 * MiB, minContainerMemoryBytes: 6 * MiB } as const;
