/**
 * `plexi_shard_holders`: which runner holds each shard, as Channel claims
 * check it (src/messaging/store/ChannelClaim.ts).
 *
 * A runner records itself for the shards it just locked before the library
 * counts them as acquired (FencedRunnerStorage.ts), so before any entity of
 * those shards runs on it. The record is written only while the shard's
 * advisory lock is held by a session of this runner (its `application_name`,
 * RunnerSocket.ts), and that is checked after the row is locked (the
 * `ON CONFLICT … DO UPDATE … WHERE` runs on the locked, newest row): a runner
 * that passed the check when its statement started and lost the lock while it
 * waited for the row can never overwrite the new holder's record.
 *
 * The advisory lock of a shard is the library's: SqlRunnerStorage (0.60.2)
 * locks `(index of its group among the sorted available groups + 1) * 1000000
 * + shard number` with `pg_try_advisory_lock(bigint)` (`test/integration/ShardHolders.test.ts`
 * checks this against the library).
 */
import type { RunnerAddress, ShardId, ShardingConfig } from "@effect/cluster"
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { applicationName } from "./RunnerSocket.ts"

/** The name a runner has in `plexi_shard_holders` (its advertised address). */
export const runnerName = (address: RunnerAddress.RunnerAddress) => `${address.host}:${address.port}`

/** The advisory lock key SqlRunnerStorage takes for each shard under `config`. */
export const lockKeys = (config: Pick<ShardingConfig.ShardingConfig["Type"], "availableShardGroups">) => {
  const groups = Array.from(new Set(config.availableShardGroups.slice().sort()))
  return (shardId: ShardId.ShardId) => (groups.indexOf(shardId.group) + 1) * 1_000_000 + shardId.id
}

/** True while a session named `$app` holds the advisory lock `<key>` (a bigint lock: classid, objid, objsubid 1). */
const lockHeld = (key: string) => `EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = (${key} >> 32)::oid AND l.objid = (${key} & 4294967295)::oid
    AND (SELECT a.application_name FROM pg_stat_get_activity(l.pid) a) = $4)`

/**
 * Records `address` as the holder of each of `shardIds` whose advisory lock one
 * of its sessions holds, and returns the shards it is now recorded for (an
 * existing record is left as it is). Rewrites only records that name another
 * runner, so a repeated call writes nothing.
 */
export const record = (sql: SqlClient.SqlClient, keyOf: (shardId: ShardId.ShardId) => number) =>
(address: RunnerAddress.RunnerAddress, shardIds: ReadonlyArray<ShardId.ShardId>) =>
  sql.unsafe<{ shard_id: string }>(
    `WITH wanted AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS w(shard_id, lock_key)),
     written AS (
       INSERT INTO plexi_shard_holders AS h (shard_id, lock_key, runner)
       SELECT w.shard_id, w.lock_key, $3 FROM wanted w WHERE ${lockHeld("w.lock_key")}
       ON CONFLICT (shard_id) DO UPDATE SET runner = EXCLUDED.runner, lock_key = EXCLUDED.lock_key
       WHERE h.runner <> EXCLUDED.runner AND ${lockHeld("EXCLUDED.lock_key")}
       RETURNING h.shard_id)
     SELECT shard_id FROM written
     UNION SELECT h.shard_id FROM plexi_shard_holders h JOIN wanted w USING (shard_id) WHERE h.runner = $3`,
    [shardIds.map(String), shardIds.map(keyOf), runnerName(address), applicationName(address)]
  ).pipe(Effect.map((rows) => {
    const recorded = new Set(rows.map((r) => r.shard_id))
    return shardIds.filter((id) => recorded.has(id.toString()))
  }))
