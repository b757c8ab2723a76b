import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/security/**/*.test.ts", "test/robustness/**/*.test.ts", "test/images/**/*.test.ts", "test/shim/**/*.test.ts", "test/supervisor/**/*.test.ts"],
    // Integration tests share the kernel (cgroups, mounts): one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
