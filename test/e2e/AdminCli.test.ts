/**
 * The admin CLI run as a child process (the compiled bin) against a real
 * embedded node: `status` before any account exists, `login` and its stored
 * file, the users / channels / sessions / flags commands with their effects
 * checked through other doors, and the exit codes scripts rely on.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { PROTOCOL_VERSION } from "../../domain/ProtocolVersion.ts"
import { PACKAGE_VERSION } from "../../runtime/Release.ts"

const password = "a long and unusual passphrase"

describe("plexichat admin CLI on an embedded node", () => {
  let node: NodeProcess
  const cli = adminCli()
  beforeAll(async () => {
    node = await startNode()
  })
  afterAll(async () => {
    await node?.stop()
    cli.remove()
  })

  it("status --url --json answers the node's health before any account exists", async () => {
    const status = await cli.json(["status", "--url", node.url])
    expect(status).toMatchObject({ scope: "node", health: { status: "ok", cluster: "single", database: "pglite", shards: expect.any(Number) } })
  })

  it("logs in, stores the login with mode 0600 without printing a token, and runs the admin commands with it", async () => {
    const owner = await authClient(node.url).signUp("cli-owner", password)
    const login = await cli.run(["login", "--url", node.url, "--username", "cli-owner"], { PLEXI_PASSWORD: password })
    expect(login.code, login.stderr).toBe(0)
    expect(statSync(cli.credentials).mode & 0o777).toBe(0o600)
    const stored = JSON.parse(readFileSync(cli.credentials, "utf8"))
    expect(login.stdout + login.stderr).not.toContain(stored.refreshToken)
    expect(login.stdout + login.stderr).not.toContain(stored.accessToken)

    const status = await cli.json(["status"])
    expect(status.scope).toBe("cluster")
    expect(status.cluster).toMatchObject({ mode: "single", counts: { accounts: 1 }, nodes: [{ self: true, healthy: true }] })
    expect(status.cluster.schemaVersion).toBeGreaterThanOrEqual(16)
    // The node recorded its release at start.
    expect(status.cluster.nodes[0].release).toMatchObject({ packageVersion: PACKAGE_VERSION, protocolVersion: PROTOCOL_VERSION })

    const created = await cli.json(["users", "create", "cli-member", "--role", "member"], { PLEXI_NEW_PASSWORD: password })
    expect(created).toMatchObject({ username: "cli-member", role: "member", disabled: false })
    const listed = await cli.json(["users", "list"])
    expect(listed.map((a: { username: string }) => a.username)).toEqual(["cli-member", "cli-owner"])
    expect(JSON.stringify(listed)).not.toContain("argon2")

    const member = await authClient(node.url).signIn("cli-member", password)
    expect(await cli.json(["sessions", "revoke", "--user", created.userId])).toEqual({ revoked: 1 })
    expect((await authClient(node.url).refresh(member.refreshToken)).status).toBe(401)

    expect(await cli.json(["users", "disable", created.userId])).toMatchObject({ userId: created.userId, disabled: true })
    expect((await authClient(node.url).login({ username: "cli-member", password })).status).toBe(403)
    expect(await cli.json(["users", "enable", created.userId])).toMatchObject({ disabled: false })
    expect(await cli.json(["users", "reset-mfa", created.userId])).toMatchObject({ removed: { totp: false, backupCodes: 0, webauthnKeys: 0 } })

    const channel = await fetch(`${node.url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${owner.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "ops-room", visibility: "private" })
    }).then((r) => r.json())
    expect(await cli.json(["channels", "list"])).toEqual([expect.objectContaining({ channelId: channel.id, name: "ops-room", visibility: "private", members: 1 })])

    expect(await cli.json(["flags", "set", "beta.search", "on"])).toMatchObject({ name: "beta.search", enabled: true, updatedBy: owner.userId })
    expect(await cli.json(["flags", "list"])).toEqual([expect.objectContaining({ name: "beta.search", enabled: true, effectiveHere: true })])
    const audit = await fetch(`${node.url}/api/v1/admin/audit?action=admin.flag_set`, { headers: { authorization: `Bearer ${owner.accessToken}` } })
      .then((r) => r.json())
    expect(audit).toEqual([expect.objectContaining({ actor: owner.userId, target: "beta.search" })])
    // The REST door of the flags, and the audit log read over RPC (--url) by the same CLI.
    const put = await fetch(`${node.url}/api/v1/admin/flags/beta.search`, {
      method: "PUT",
      headers: { authorization: `Bearer ${owner.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ enabled: false })
    })
    expect(put.status).toBe(200)
    expect(await cli.json(["flags", "list"])).toEqual([expect.objectContaining({ name: "beta.search", enabled: false, effectiveHere: false })])
    const remoteAudit = await cli.run(["audit", "query", "--url", node.url, "--action", "admin.flag_set"])
    expect(remoteAudit.code, remoteAudit.stderr).toBe(0)
    expect(remoteAudit.stdout.trim().split("\n").map((line) => JSON.parse(line).details.enabled)).toEqual([true, false])
    // Table output by default.
    expect((await cli.run(["users", "list"])).stdout).toMatch(/^USER ID\s+USERNAME\s+ROLE/)
  }, 120_000)

  it("refreshes a stored login whose access token is about to expire, three commands at once taking turns on its lock", async () => {
    const before = JSON.parse(readFileSync(cli.credentials, "utf8"))
    // As if the access token had run out: the next commands must refresh, and only one of them may use the token.
    writeFileSync(cli.credentials, JSON.stringify({ ...before, accessTokenExpiresAt: 0 }), { mode: 0o600 })
    const runs = await Promise.all([1, 2, 3].map(() => cli.run(["users", "list", "--json"])))
    for (const r of runs) expect(r.code, `${r.stderr}|${r.stdout}`).toBe(0)
    const after = JSON.parse(readFileSync(cli.credentials, "utf8"))
    expect(after.refreshToken).not.toBe(before.refreshToken)
    expect(after.accessTokenExpiresAt).toBeGreaterThan(Date.now())
    expect(statSync(cli.credentials).mode & 0o777).toBe(0o600)
    expect(existsSync(`${cli.credentials}.lock`)).toBe(false)
    // One refresh, no reuse: the session lives on (presenting the spent token here would itself be a reuse and end it).
    const sessions = await cli.json(["sessions", "list"])
    expect(sessions.filter((x: { deviceName: string }) => x.deviceName === "plexichat CLI")).toHaveLength(1)
  }, 60_000)

  it("exits 1 when refused, 2 on bad usage, 3 when unreachable and 4 without valid credentials", async () => {
    const member = await authClient(node.url).signUp("cli-plain", password).catch(() => authClient(node.url).signIn("cli-plain", password))
    const asMember = await cli.run(["users", "list", "--url", node.url, "--token", member.accessToken])
    expect(asMember.code).toBe(1)
    expect(asMember.stderr).toContain("Forbidden")
    expect((await cli.run(["users", "list", "--limit", "0"])).code).toBe(2)
    expect((await cli.run(["users", "disable", "not an id"])).code).toBe(2)
    expect((await cli.run(["frobnicate"])).code).toBe(2)
    expect((await cli.run(["status", "--url", "http://127.0.0.1:9", "--token", "x"])).code).toBe(3)
    expect((await cli.run(["users", "list", "--url", node.url, "--token", "not-a-token"])).code).toBe(4)
    expect((await cli.run(["users", "list", "--url", node.url], { PLEXI_CLI_CREDENTIALS: "/nonexistent/credentials.json" })).code).toBe(4)
    expect((await cli.run(["users", "--help"])).code).toBe(0)
    // A stored login readable by others is refused, not used.
    chmodSync(cli.credentials, 0o644)
    const open = await cli.run(["users", "list"])
    expect(open.code).toBe(2)
    expect(open.stderr).toContain("mode 644")
    chmodSync(cli.credentials, 0o600)
    // Logout ends the session on the node and deletes the file; later commands are not signed in.
    const refreshToken = JSON.parse(readFileSync(cli.credentials, "utf8")).refreshToken
    expect(await cli.json(["logout"])).toEqual({ loggedOut: true, sessionEnded: true })
    expect(existsSync(cli.credentials)).toBe(false)
    expect((await authClient(node.url).refresh(refreshToken)).status).toBe(401)
    expect((await cli.run(["users", "list", "--url", node.url])).code).toBe(4)
  }, 120_000)
})
