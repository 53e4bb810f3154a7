import { ConfigProvider, Duration, Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import { config, defaultRunnerPort, defaults } from "../../runtime/cluster/ClusterConfig.ts"

const read = (env: Record<string, string>) =>
  Effect.runSyncExit(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env)))))

const failure = (env: Record<string, string>) => {
  const exit = read(env)
  if (Exit.isSuccess(exit)) throw new Error("expected a config error")
  return String(exit.cause)
}

describe("ClusterConfig", () => {
  it("defaults to a runner port below Linux's ephemeral range and the fast-failover intervals", () => {
    const exit = read({})
    expect(Exit.isSuccess(exit)).toBe(true)
    if (!Exit.isSuccess(exit)) return
    expect(exit.value.runnerPort).toBe(defaultRunnerPort)
    expect(defaultRunnerPort).toBeLessThan(32768)
    expect(Duration.toMillis(exit.value.shardLockExpiration)).toBe(2000)
    expect(Duration.toMillis(exit.value.shardLockRefresh)).toBe(500)
    expect(Duration.toMillis(exit.value.assignmentRefresh)).toBe(500)
    expect(exit.value.portFile).toEqual(Option.none())
    expect(exit.value).toEqual(defaults)
  })

  it("accepts runner port 0 (the OS chooses)", () => {
    const exit = read({ PLEXI_RUNNER_PORT: "0" })
    expect(Exit.isSuccess(exit) && exit.value.runnerPort).toBe(0)
  })

  it.each([
    ["PLEXI_RUNNER_PORT", "70000"],
    ["PLEXI_RUNNER_PORT", "-1"],
    ["PLEXI_SHARDS_PER_GROUP", "0"],
    ["PLEXI_SHARD_LOCK_EXPIRATION", "0 seconds"],
    ["PLEXI_SHARD_LOCK_REFRESH", "0 millis"],
    ["PLEXI_ASSIGNMENT_REFRESH", "0 millis"],
    ["PLEXI_ENTITY_TERMINATION_TIMEOUT", "0 seconds"],
    ["PLEXI_RUNNER_REAP_INTERVAL", "0 millis"],
    ["PLEXI_RUNNER_HOST", ""],
    ["PLEXI_PORT_FILE", ""]
  ])("refuses %s=%s with an error naming the variable", (name, value) => {
    expect(failure({ [name]: value })).toContain(name)
  })
})
