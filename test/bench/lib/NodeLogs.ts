/** Warnings in a node's output that a scenario must not provoke. */
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"

/**
 * Lines about the shard locks at WARN level or above: "Shard lock storage is
 * unhealthy" (the library's error), "Shard lock session failed" and "Shard
 * lock operation timed out" (FencedRunnerStorage), or any other lock warning.
 */
export const lockWarnings = (node: NodeProcess) =>
  node.output().split("\n").filter((line) => /level=(WARN|ERROR|FATAL)|\] (WARN|ERROR|FATAL) /i.test(line) && /lock/i.test(line))
