import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and integration tests that start real
// engines (Docker, QEMU). Integration tests run one file at a time: the
// machine has 2 cores and concurrent TCG guests skew each other's timings.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
