/**
 * docker-compose.cluster.yml, checked with what `npm install` brings (no
 * Docker, no docker-compose binary):
 * - dclint validates it against the Compose Specification JSON schema it
 *   ships and runs its correctness rules (a seeded broken file shows that the
 *   validator really runs);
 * - a structural test holds what the cluster needs: a scalable `node`
 *   service, a Postgres health check it waits for, the required secret;
 * - every DATABASE_URL / PLEXI_* variable the node service sets is in
 *   README.md's configuration table.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { DCLinter } from "dclint"
import { afterEach, describe, expect, it } from "vitest"
import { parse } from "yaml"

const repoRoot = path.resolve(import.meta.dirname, "..", "..")
const composeFile = path.join(repoRoot, "docker-compose.cluster.yml")

/**
 * dclint's schema check always runs; of its rules, the correctness and
 * security ones stay on, the style ones (key order, quoting, a project name)
 * are off.
 */
const linter = new DCLinter({
  rules: {
    "no-build-and-image": 2,
    "no-duplicate-container-names": 2,
    "no-duplicate-exported-ports": 2,
    "no-version-field": 2,
    "service-container-name-regex": 2,
    "service-image-require-explicit-tag": 2,
    // The published range (8080-8089) is meant to be reached on every host interface.
    "no-unbound-port-interfaces": 0,
    "no-quotes-in-volumes": 0,
    "require-project-name-field": 0,
    "require-quotes-in-ports": 0,
    "service-dependencies-alphabetical-order": 0,
    "service-keys-order": 0,
    "service-ports-alphabetical-order": 0,
    "services-alphabetical-order": 0,
    "top-level-properties-order": 0
  },
  quiet: true,
  debug: false,
  exclude: []
})

/** What this test reads of dclint's `LintResult` (its .d.ts files import each other without extensions). */
interface LintResult {
  readonly filePath: string
  readonly messages: ReadonlyArray<{ readonly rule: string; readonly type: string; readonly message: string }>
}

const lint = (file: string) => {
  const results: ReadonlyArray<LintResult> = linter.lintFiles([file], false)
  expect(results.map((r) => r.filePath)).toEqual([file])
  return results[0]!.messages.map((m) => ({ rule: m.rule, type: m.type, message: m.message }))
}

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const seeded = (content: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), "plexi-compose-"))
  dirs.push(dir)
  const file = path.join(dir, "docker-compose.yml")
  writeFileSync(file, content)
  return file
}

type Dict = Record<string, unknown>

const isDict = (u: unknown): u is Dict => typeof u === "object" && u !== null && !Array.isArray(u)

const loadCompose = (): Dict => {
  const doc: unknown = parse(readFileSync(composeFile, "utf8"))
  if (!isDict(doc)) throw new Error("docker-compose.cluster.yml is not a YAML mapping")
  return doc
}

const service = (doc: Dict, name: string): Dict => {
  const services = doc["services"]
  if (!isDict(services) || !isDict(services[name])) throw new Error(`compose file has no service "${name}"`)
  return services[name]
}

/** `environment:` as a map, accepting both the mapping and the `KEY=value` list forms. */
const environmentOf = (svc: Dict): Record<string, string> => {
  const env = svc["environment"]
  const out: Record<string, string> = {}
  if (Array.isArray(env)) {
    for (const item of env) {
      const [key, ...rest] = String(item).split("=")
      out[key!] = rest.join("=")
    }
  } else if (isDict(env)) {
    for (const [key, value] of Object.entries(env)) out[key] = value === null ? "" : String(value)
  }
  return out
}

/** Published ports in short form (`"host:container"`) or long form (`{ target, published }`). */
const publishedPorts = (svc: Dict): Array<{ host: string; container: string }> => {
  const ports = svc["ports"]
  if (!Array.isArray(ports)) return []
  return ports.map((p) => {
    if (isDict(p)) return { host: String(p["published"] ?? ""), container: String(p["target"]) }
    const parts = String(p).split("/")[0]!.split(":")
    return { host: parts.length > 1 ? parts.at(-2)! : "", container: parts.at(-1)! }
  })
}

/** Env var names that appear in Markdown table rows of README.md. */
const readmeTableVariables = (): Set<string> => {
  const names = new Set<string>()
  for (const line of readFileSync(path.join(repoRoot, "README.md"), "utf8").split("\n")) {
    if (!line.trimStart().startsWith("|")) continue
    for (const m of line.matchAll(/\b(PLEXI_[A-Z0-9_]+|DATABASE_URL)\b/g)) names.add(m[1]!)
  }
  return names
}

describe("docker-compose.cluster.yml", () => {
  it("is valid against the Compose Specification schema and passes dclint's correctness rules", () => {
    expect(lint(composeFile)).toEqual([])
  })

  it("the validator refuses a file the Compose Specification does not allow, and invalid YAML", () => {
    const badSchema = lint(seeded("services:\n  node:\n    image: postgres:15\n    depends_on: 5\n    restrat: always\n"))
    expect(badSchema).toEqual([expect.objectContaining({ rule: "invalid-schema", type: "error" })])
    const badYaml = lint(seeded("services:\n  node: [unclosed\n"))
    expect(badYaml).toEqual([expect.objectContaining({ rule: "invalid-yaml", type: "error" })])
    const untagged = lint(seeded("services:\n  db:\n    image: postgres\n"))
    expect(untagged).toEqual([expect.objectContaining({ rule: "service-image-require-explicit-tag" })])
  })

  it("defines a scalable node service that waits for a healthy postgres and requires its own token secret", () => {
    const doc = loadCompose()
    const postgres = service(doc, "postgres")
    expect(String(postgres["image"])).toMatch(/^postgres:15/)
    expect(environmentOf(postgres)["POSTGRES_HOST_AUTH_METHOD"]).toBe("trust")
    const pgHealth = postgres["healthcheck"]
    expect(isDict(pgHealth) && JSON.stringify(pgHealth["test"])).toContain("pg_isready")

    const node = service(doc, "node")
    // Scaling (`--scale node=3`) needs no fixed container name and no single fixed host port.
    expect(node["container_name"], "node must not set container_name (it must scale)").toBeUndefined()
    expect(node["build"]).toBeDefined()
    const ports = publishedPorts(node)
    expect(ports.map((p) => p.container)).toContain("8080")
    for (const { host } of ports) expect(host === "" || host.includes("-"), `host port ${host} cannot be shared by scaled nodes`).toBe(true)
    expect(node["depends_on"]).toEqual({ postgres: { condition: "service_healthy" } })
    const env = environmentOf(node)
    expect(env["DATABASE_URL"]).toMatch(/^postgres:\/\/.*@postgres:5432\//)
    // `${VAR:?message}`: compose refuses to start when the secret is unset (a cluster must not use the public default).
    expect(env["PLEXI_DEV_TOKEN_SECRET"]).toMatch(/^\$\{PLEXI_DEV_TOKEN_SECRET:\?.+\}$/)
    expect(env["PLEXI_AUTH_SIGNING_KEYS"]).toMatch(/^\$\{PLEXI_AUTH_SIGNING_KEYS:\?.+\}$/)
    expect(env["PLEXI_AUTH_MFA_KEYS"]).toMatch(/^\$\{PLEXI_AUTH_MFA_KEYS:\?.+\}$/)
    expect(node["healthcheck"]).toBeDefined()
  })

  it("documents every variable the node service sets in README.md's configuration table", () => {
    const env = environmentOf(service(loadCompose(), "node"))
    const used = Object.keys(env).filter((k) => k === "DATABASE_URL" || k.startsWith("PLEXI_"))
    expect(used.length).toBeGreaterThan(0)
    const documented = readmeTableVariables()
    const undocumented = used.filter((k) => !documented.has(k))
    expect(undocumented, `not in README.md's configuration table: ${undocumented.join(", ")}`).toEqual([])
  })
})
