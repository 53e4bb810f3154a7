/**
 * `plexichat backup keys rotate-recipient|rotate-signing` as an operator runs them: the compiled CLI as a child
 * process against real Postgres, keys made by `backup keys`, shards in a directory. A backup wrapped to recipient A
 * is rotated to B: it restores with B's key and is refused with A's (with `--keep-old` both open it); a backup wrapped
 * to another recipient only is skipped; a dry run writes nothing; a tampered manifest fails the rotation, named, and
 * nothing changes; a running backup job blocks it; after `rotate-signing` the manifests verify under the new public
 * key and no longer under the old.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { canonicalJson } from "../../src/backup/crypto/CanonicalJson.ts"
import { contents, migrated, postgresDatabase, query, seed, tablesOf } from "../fixtures/BackupFixture.ts"
import { adminCli } from "../fixtures/AdminCli.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const work = mkdtempSync(join(tmpdir(), "plexi-backup-rotation-"))
const databases: Array<TestDatabase> = []
let source: TestDatabase
const key = (who: string, ext: "key" | "pub") => join(work, who, `backup-${who.startsWith("signing") ? "signing" : "recipient"}.${ext}`)

const cli = adminCli()

/** The CLI with this file's backup settings (recipient A, signing key 1), the last stdout line parsed as `value`. */
const run = (args: Array<string>, env: Record<string, string> = {}) =>
  cli.run(args, {
    DATABASE_URL: source.url,
    PLEXI_BACKUP_RECIPIENTS: key("a", "pub"),
    PLEXI_BACKUP_SIGNING_KEY: key("signing1", "key"),
    PLEXI_BACKUP_SHARD_DIR: join(work, "shards"),
    ...env
  }).then((out) => ({ ...out, value: lastJson(out.stdout) }))

const lastJson = (stdout: string) => {
  try {
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null")
  } catch {
    return null
  }
}

const rotateRecipient = (...args: Array<string>) => run(["backup", "keys", "rotate-recipient", "--json", ...args])
const verify = (id: string, recipient: string, env?: Record<string, string>) => run(["backup", "verify", "--json", "--key", key(recipient, "key"), id], env)
const catalog = async () => (await query(source, "SELECT id, manifest FROM plexi_backups ORDER BY created_at, id")).map((r) => ({ id: r.id, manifest: r.manifest }))
const manifestOf = async (id: string) => String((await query(source, "SELECT manifest FROM plexi_backups WHERE id = $1", [id]))[0]!.manifest)

let wrappedToA: string
let wrappedToC: string

beforeAll(async () => {
  source = await postgresDatabase(databases)
  await migrated(source)
  await seed(source, 400, 100)
  for (const who of ["a", "b", "c"]) expect((await run(["backup", "keys", "generate-recipient", "--out", join(work, who)])).code).toBe(0)
  for (const who of ["signing1", "signing2"]) expect((await run(["backup", "keys", "generate-signing", "--out", join(work, who)])).code).toBe(0)
  const a = await run(["backup", "create", "--json"])
  expect(a.code, a.stderr).toBe(0)
  wrappedToA = a.value.backupId
  const c = await run(["backup", "create", "--json"], { PLEXI_BACKUP_RECIPIENTS: key("c", "pub") })
  expect(c.code, c.stderr).toBe(0)
  wrappedToC = c.value.backupId
}, 180_000)

afterAll(async () => {
  cli.remove()
  for (const db of databases) await db.drop()
  rmSync(work, { recursive: true, force: true })
})

describe("plexichat backup keys rotate-recipient and rotate-signing", () => {
  it("--dry-run reports what would be rewrapped and skipped, and writes nothing", async () => {
    const before = await catalog()
    const out = await rotateRecipient("--dry-run", "--key", key("a", "key"), "--to", key("b", "pub"), "--manifest-out", join(work, "dry"))
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, dryRun: true, rewrapped: [wrappedToA], skipped: [{ backupId: wrappedToC }], manifestsWritten: [] })
    expect(await catalog()).toEqual(before)
    expect(existsSync(join(work, "dry"))).toBe(false)
    const human = await run(["backup", "keys", "rotate-recipient", "--dry-run", "--key", key("a", "key"), "--to", key("b", "pub")])
    expect(human.stdout).toContain(`dry run, nothing written: would have rewrapped 1 backup from recipient`)
    expect(human.stdout).toContain(`skipped 1\n  ${wrappedToC}: not wrapped to recipient`)
  })

  it("a manifest changed after signing fails either rotation, naming the backup, and nothing changes", async () => {
    const original = await manifestOf(wrappedToC)
    const json = JSON.parse(original)
    const tampered = `${canonicalJson({ ...json, manifest: { ...json.manifest, createdAt: json.manifest.createdAt + 1 } })}\n`
    await query(source, "UPDATE plexi_backups SET manifest = $1 WHERE id = $2", [tampered, wrappedToC])
    try {
      const before = await catalog()
      const rewrap = await rotateRecipient("--key", key("a", "key"), "--to", key("b", "pub"), "--manifest-out", join(work, "tampered"))
      expect(rewrap.code).toBe(1)
      expect(rewrap.value).toMatchObject({ ok: false, error: { _tag: "KeyRotationFailed", backup: wrappedToC, reason: expect.stringContaining("ManifestSignatureInvalid") } })
      expect(rewrap.stderr).toContain(`KeyRotationFailed: backup ${wrappedToC}`)
      const resign = await run(["backup", "keys", "rotate-signing", "--json", "--key", key("signing2", "key")])
      expect(resign.code).toBe(1)
      expect(resign.value.error).toMatchObject({ _tag: "KeyRotationFailed", backup: wrappedToC })
      expect(await catalog()).toEqual(before)
      // The copy of the backup changed before the failure was removed with the rollback.
      expect(readdirSync(join(work, "tampered"))).toEqual([])
    } finally {
      await query(source, "UPDATE plexi_backups SET manifest = $1 WHERE id = $2", [original, wrappedToC])
    }
  })

  it("refuses while a backup job runs, naming it, and changes nothing", async () => {
    const running = "bk_0000000009rotatione2erun9"
    await query(source, "INSERT INTO plexi_backups (id, kind, state, created_at) VALUES ($1, 'full', 'running', $2)", [running, Date.now()])
    await query(source, "INSERT INTO plexi_backup_jobs (backup_id, step, sealed_key, recipients) VALUES ($1, 'verify', '\\x00', '[]')", [running])
    try {
      const before = await catalog()
      for (const args of [["rotate-recipient", "--key", key("a", "key"), "--to", key("b", "pub")], ["rotate-signing", "--key", key("signing2", "key")]]) {
        const out = await run(["backup", "keys", ...args, "--json"])
        expect(out.code).toBe(1)
        expect(out.value.error).toMatchObject({ _tag: "KeyRotationBlocked", backupId: running, reason: expect.stringContaining(`the backup job ${running} is running (step verify)`) })
      }
      expect(await catalog()).toEqual(before)
    } finally {
      await query(source, "DELETE FROM plexi_backups WHERE id = $1", [running])
    }
  })

  it("rotates A to B: B's key verifies and restores the backup, A's is refused clearly; the copy written verifies too", async () => {
    const out = await rotateRecipient("--key", key("a", "key"), "--to", key("b", "pub"), "--manifest-out", join(work, "rotated"))
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, dryRun: false, keptOld: false, rewrapped: [wrappedToA], skipped: [{ backupId: wrappedToC }] })
    expect(out.value.next).toContain("PLEXI_BACKUP_RECIPIENTS")
    expect(out.value.manifestsWritten).toEqual([join(work, "rotated", `${wrappedToA}.manifest`)])
    expect(readFileSync(out.value.manifestsWritten[0], "utf8")).toBe(await manifestOf(wrappedToA))

    expect(await verify(wrappedToA, "b")).toMatchObject({ code: 0, value: { ok: true, backupId: wrappedToA, decrypted: true } })
    const withA = await verify(wrappedToA, "a")
    expect(withA.code).toBe(1)
    expect(withA.value.error).toMatchObject({ _tag: "RestoreFailed", backup: wrappedToA, reason: expect.stringContaining("RecipientNotFound") })
    const fromCopy = await run(["backup", "verify", "--json", "--key", key("b", "key"), "--manifest", out.value.manifestsWritten[0]])
    expect(fromCopy).toMatchObject({ code: 0, value: { ok: true, decrypted: true } })

    const target = await postgresDatabase(databases)
    const restored = await run(["backup", "restore", "--json", "--key", key("b", "key"), "--target", target.url, wrappedToA])
    expect(restored.code, restored.stderr).toBe(0)
    expect(await contents(target)).toEqual(await contents(source))
    const refused = await postgresDatabase(databases)
    const withOld = await run(["backup", "restore", "--json", "--key", key("a", "key"), "--target", refused.url, wrappedToA])
    expect(withOld.code).toBe(1)
    expect(withOld.value.error).toMatchObject({ _tag: "RestoreFailed", backup: wrappedToA, reason: expect.stringContaining("RecipientNotFound") })
    expect(await tablesOf(refused)).toEqual([])
    // Nothing is wrapped to A any more: a second run skips everything.
    expect((await rotateRecipient("--key", key("a", "key"), "--to", key("b", "pub"))).value).toMatchObject({ ok: true, rewrapped: [], skipped: [{}, {}] })
  })

  it("--keep-old keeps the old recipient's copy: both keys open the backup", async () => {
    const out = await rotateRecipient("--keep-old", "--key", key("b", "key"), "--to", key("a", "pub"))
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, keptOld: true, rewrapped: [wrappedToA] })
    for (const who of ["a", "b"]) expect(await verify(wrappedToA, who)).toMatchObject({ code: 0, value: { ok: true, decrypted: true } })
  })

  it("rotate-signing: the manifests then verify under the new public key and not under the old; a second run skips them", async () => {
    const exported = await run(["backup", "keys", "export", key("signing2", "key"), "--out", join(work, "signing2.pub")])
    expect(exported.code, exported.stderr).toBe(0)
    const out = await run(["backup", "keys", "rotate-signing", "--json", "--key", key("signing2", "key")])
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, dryRun: false, resigned: [wrappedToA, wrappedToC], skipped: [] })
    expect(out.value.next).toContain(`PLEXI_BACKUP_SIGNING_KEY=${key("signing2", "key")}`)

    const newPublic = { PLEXI_BACKUP_SIGNING_PUBLIC: join(work, "signing2.pub") }
    expect(await verify(wrappedToA, "b", newPublic)).toMatchObject({ code: 0, value: { ok: true, decrypted: true } })
    expect(await verify(wrappedToC, "c", newPublic)).toMatchObject({ code: 0, value: { ok: true, decrypted: true } })
    const underOld = await verify(wrappedToA, "b")
    expect(underOld.code).toBe(1)
    expect(underOld.value.error).toMatchObject({ _tag: "RestoreFailed", backup: wrappedToA, reason: expect.stringContaining("ManifestSignatureInvalid: signed by key") })

    const again = await run(["backup", "keys", "rotate-signing", "--json", "--key", key("signing2", "key"), "--old-public", key("signing1", "pub")])
    expect(again.value).toMatchObject({ ok: true, resigned: [], skipped: [{ reason: expect.stringContaining("already signed by the new key") }, {}] })
  })
})
