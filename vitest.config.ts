import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Cluster and e2e tests start real processes and bind real ports.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1
  }
})
