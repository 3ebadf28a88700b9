import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real tests mount filesystems and start servers: give them room, and run files in separate
    // processes so a crashed test cannot leave state in another's memory.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    setupFiles: ['test/helpers/setup.ts'],
  },
});
