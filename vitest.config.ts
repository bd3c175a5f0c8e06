import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two cores: more workers only fight over the CPU and make timing-sensitive e2e tests flaky.
    maxWorkers: 2,
  },
});
