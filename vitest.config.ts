import { relative } from "node:path"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

/**
 * Files that start real node processes (test/cluster, test/e2e) run first, a cluster file and an e2e file in turn,
 * then the rest; each group keeps vitest's own order (slowest first from its cache of past runs, else larger files
 * first). Without a cache (CI starts from `npm ci`) vitest would order by size alone, and small but slow files
 * (Failover, GracefulStop, StartupConfig) would start late and run alone at the end. Taking cluster and e2e files
 * in turn keeps the two workers from running two clusters of real processes side by side more than they must.
 */
class ProcessesFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    const under = (dir: string) => sorted.filter((f) => relative(this.ctx.config.root, f.moduleId).startsWith(dir))
    const [cluster, e2e] = [under("test/cluster/"), under("test/e2e/")]
    const first = Array.from({ length: Math.max(cluster.length, e2e.length) }, (_, i) => [cluster[i], e2e[i]])
      .flat()
      .filter((f) => f !== undefined)
    const ordered = [...first, ...sorted.filter((f) => !first.includes(f))]
    // Last, when the other worker runs lighter files: its stop of a node with 1,000 followed channels is bounded at
    // 12 s, and next to another process-heavy file under the suite's load it once took 15 s (2.8-5.5 s otherwise).
    const last = ordered.filter((f) => relative(this.ctx.config.root, f.moduleId) === "test/cluster/GracefulStopFollowed.test.ts")
    return [...ordered.filter((f) => !last.includes(f)), ...last]
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ once, before any file: the nodes the tests start run the compiled code (test/fixtures/BuiltDist.ts).
    globalSetup: ["test/fixtures/BuiltDist.ts"],
    // A failed test prints the end of each node process's log its file started.
    setupFiles: ["test/fixtures/NodeLogsOnFailure.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Cluster and e2e tests start real processes and bind real ports.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    sequence: { sequencer: ProcessesFirst }
  }
})
