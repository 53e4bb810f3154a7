/**
 * The audit log's hash chain, as pure functions shared by the writer
 * (`AuditRows.ts`) and the verifier (`plexichat audit verify`).
 *
 * Each row's `hash` is the SHA-256 (hex) of a canonical encoding of its
 * fields and the previous row's hash, so editing a row breaks its own hash,
 * and deleting or moving one breaks the link of the row after it (and the
 * gap-free `seq`). The first row links to `GENESIS`.
 */
import { createHash } from "node:crypto"

export const GENESIS = "0".repeat(64)

/** Bounds of the stored fields: a client value never makes a row larger than this. */
export const LIMITS = { actor: 64, action: 64, target: 128, ip: 64, node: 128, details: 2048 } as const

/** A row as stored (and as hashed). `details` is JSON text, hashed exactly as stored. */
export interface ChainRow {
  readonly seq: number
  readonly at: number
  readonly actor: string | null
  readonly action: string
  readonly target: string | null
  readonly ip: string | null
  readonly node: string
  readonly details: string
  readonly prevHash: string
  readonly hash: string
}

export const hashOf = (row: Omit<ChainRow, "hash">): string =>
  createHash("sha256")
    .update(JSON.stringify([row.seq, row.at, row.actor, row.action, row.target, row.ip, row.node, row.details, row.prevHash]))
    .digest("hex")

const clip = (value: string | null | undefined, max: number): string | null =>
  value === undefined || value === null || value.length === 0 ? null : value.slice(0, max)

/** The JSON text of `details`, at most `LIMITS.details` characters (a longer one is kept as a clipped string). */
export const detailsText = (details: unknown): string => {
  const text = JSON.stringify(details ?? {}) ?? "{}"
  return text.length <= LIMITS.details ? text : JSON.stringify({ clipped: text.slice(0, LIMITS.details - 32) })
}

/** What an append needs of an event. */
export interface ChainInput {
  readonly at: number
  readonly actor?: string | null | undefined
  readonly action: string
  readonly target?: string | null | undefined
  readonly ip?: string | null | undefined
  readonly node: string
  readonly details?: unknown
}

/** The rows that extend a chain ending at (`seq`, `hash`) with `events`, in order. */
export const extend = (head: { readonly seq: number; readonly hash: string }, events: ReadonlyArray<ChainInput>): Array<ChainRow> => {
  const rows: Array<ChainRow> = []
  let prevHash = head.hash
  let seq = head.seq
  for (const e of events) {
    seq++
    const row = {
      seq,
      at: e.at,
      actor: clip(e.actor, LIMITS.actor),
      action: clip(e.action, LIMITS.action) ?? "unknown",
      target: clip(e.target, LIMITS.target),
      ip: clip(e.ip, LIMITS.ip),
      node: clip(e.node, LIMITS.node) ?? "unknown",
      details: detailsText(e.details),
      prevHash
    }
    const hash = hashOf(row)
    rows.push({ ...row, hash })
    prevHash = hash
  }
  return rows
}

/** The first problem of a row read in seq order after `previous` (undefined before the first row), if any. */
export const problemOf = (previous: { readonly seq: number; readonly hash: string }, row: ChainRow): string | undefined => {
  if (row.seq !== previous.seq + 1) {
    return row.seq > previous.seq + 1
      ? `row ${previous.seq + 1} is missing (the next row is ${row.seq})`
      : `row ${row.seq} is out of order`
  }
  if (row.prevHash !== previous.hash) return `row ${row.seq} does not link to row ${previous.seq} (prev_hash differs: deleted, inserted or reordered rows)`
  if (hashOf(row) !== row.hash) return `row ${row.seq} was altered (its hash does not match its fields)`
  return undefined
}
