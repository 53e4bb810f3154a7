/**
 * docker-compose.cluster.yml's observability profiles, offline: Prometheus and Grafana under `prometheus`, the
 * OpenTelemetry collector and Jaeger under `otel`, none of them started without their profile, each image pinned,
 * each published port bound to loopback, and every file they mount present in the repository.
 * (test/unit/Compose.test.ts validates the whole file with dclint.)
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const root = path.resolve(import.meta.dirname, "..", "..")
const compose = parse(readFileSync(path.join(root, "docker-compose.cluster.yml"), "utf8"))

const profiles: Record<string, ReadonlyArray<string>> = {
  prometheus: ["prometheus", "grafana"],
  otel: ["otel-collector", "jaeger"]
}

describe("docker-compose.cluster.yml observability profiles", () => {
  it.each(Object.entries(profiles))("puts the %s profile's services behind it, pinned and on loopback ports", (profile, names) => {
    for (const name of names) {
      const svc = compose.services[name]
      expect(svc, name).toBeDefined()
      expect(svc.profiles).toEqual([profile])
      expect(svc.image).toMatch(/:[0-9v][\w.-]*$/)
      for (const port of svc.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/)
    }
  })

  it("keeps postgres and node out of every profile (a plain `up` starts the cluster only)", () => {
    expect(compose.services.postgres.profiles).toBeUndefined()
    expect(compose.services.node.profiles).toBeUndefined()
  })

  it("mounts only files that exist in the repository", () => {
    const mounts = Object.values(profiles).flat().flatMap((name) => compose.services[name].volumes ?? [])
      .map(String).filter((v) => v.startsWith("./")).map((v) => v.split(":")[0]!)
    expect(mounts.length).toBeGreaterThanOrEqual(5)
    for (const file of mounts) expect(existsSync(path.join(root, file)), file).toBe(true)
  })
})
