import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['tests/**/*.test.ts'],
    globalSetup: ['lib/globalSetup.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
