/**
 * Which committed backups a retention policy keeps (docs/BACKUPS.md#retention-and-gc); pure.
 *
 * - the newest `keepFull` full backups (all when unset);
 * - of the incrementals whose chain's full is kept, the newest `keepIncremental` (all when unset), and every older
 *   incremental a kept one needs (its parents back to the full): an incremental is never kept without its chain;
 * - whatever a `running` backup builds on (its parents back to the full), whatever the counts say.
 *
 * Every other committed backup expires; an incremental whose chain has no full in the catalog expires too (it
 * cannot be restored). Running and failed entries never expire here.
 */
export interface RetainedEntry {
  readonly id: string
  readonly kind: "full" | "incremental"
  readonly parent: string | null
  readonly state: "running" | "committed" | "failed"
  readonly createdAt: number
}

export interface RetentionPolicy {
  readonly keepFull?: number | undefined
  readonly keepIncremental?: number | undefined
}

const newestFirst = (a: RetainedEntry, b: RetainedEntry) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)

/** The committed entries the policy lets go, newest first. */
export const expired = (entries: ReadonlyArray<RetainedEntry>, policy: RetentionPolicy): ReadonlyArray<RetainedEntry> => {
  const byId = new Map(entries.map((e) => [e.id, e]))
  const committed = entries.filter((e) => e.state === "committed").sort(newestFirst)
  /** The entry and its parents back to (and with) the full backup; undefined when a link is missing. */
  const lineage = (e: RetainedEntry): Array<RetainedEntry> | undefined => {
    const out: Array<RetainedEntry> = []
    for (let at: RetainedEntry | undefined = e; at !== undefined && out.length <= entries.length; at = at.parent === null ? undefined : byId.get(at.parent)) {
      out.push(at)
      if (at.kind === "full") return out
    }
    return undefined
  }
  const fulls = committed.filter((e) => e.kind === "full")
  const keptFulls = new Set((policy.keepFull === undefined ? fulls : fulls.slice(0, policy.keepFull)).map((e) => e.id))
  const inKeptChains = committed.filter((e) => e.kind === "incremental" && keptFulls.has(lineage(e)?.at(-1)?.id ?? ""))
  const keptIncrementals = policy.keepIncremental === undefined ? inKeptChains : inKeptChains.slice(0, policy.keepIncremental)
  const kept = new Set(keptFulls)
  const keepWithChain = (e: RetainedEntry) => {
    for (const link of lineage(e) ?? []) kept.add(link.id)
  }
  keptIncrementals.forEach(keepWithChain)
  entries.filter((e) => e.state === "running").forEach(keepWithChain)
  return committed.filter((e) => !kept.has(e.id))
}
