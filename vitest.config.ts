import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The systemd unit templates are imported as text (scripts/build.mjs bundles them the same way).
  plugins: [
    {
      name: 'unit-templates-as-text',
      enforce: 'pre',
      load(id) {
        return /\/templates\/[^/]+\.(service|timer)$/.test(id) ? `export default ${JSON.stringify(readFileSync(id, 'utf8'))};` : null;
      },
    },
  ],
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
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
