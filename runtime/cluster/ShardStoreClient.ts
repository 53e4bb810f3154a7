/**
 * Another node's shard store as a `ShardStoreNode`: the shard-store RPCs (domain/ShardStoreRpcs.ts) over a
 * connection to its runner address. A call that does not answer within PLEXI_BACKUP_SHARD_TIMEOUT, or whose
 * connection fails, is that store's failure (`ShardStoreFailed`, or `ShardMissing` for a read), naming the node.
 */
import type { RpcClient, RpcClientError } from "@effect/rpc"
import { type Duration, Effect, type Scope, Stream } from "effect"
import { ShardMissing, ShardStoreFailed } from "../../domain/BackupShardErrors.ts"
import type { ShardStoreRpcs } from "../../domain/ShardStoreRpcs.ts"
import type { ShardStoreNode } from "../../src/backup/store/ShardStoreNode.ts"

export type ShardStoreRpcClient = RpcClient.FromGroup<typeof ShardStoreRpcs, RpcClientError.RpcClientError>

const isTransport = (e: { readonly _tag: string }): e is RpcClientError.RpcClientError => e._tag === "RpcClientError"

/**
 * The node `id` reached through `client`, held for the length of each call (and each stream); a call whose
 * connection failed runs `forget`, so that the next one connects again.
 */
export const remoteShardStore = (
  id: string,
  client: Effect.Effect<ShardStoreRpcClient, never, Scope.Scope>,
  forget: Effect.Effect<void>,
  timeout: Duration.Duration
): ShardStoreNode => {
  const timedOut = (hash: string) => () => new ShardStoreFailed({ hash, reason: `${id}: no answer within ${timeout}` })
  const call = <A, E extends { readonly _tag: string }>(hash: string, f: (c: ShardStoreRpcClient) => Effect.Effect<A, E>) =>
    Effect.scoped(Effect.flatMap(client, f)).pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: timedOut(hash) }),
      Effect.tapError((e) => (isTransport(e) ? forget : Effect.void)),
      Effect.mapError((e) => (isTransport(e) ? new ShardStoreFailed({ hash, reason: `${id}: ${e.message}` }) : e as Exclude<E, RpcClientError.RpcClientError>))
    )
  const stream = <A>(f: (c: ShardStoreRpcClient) => Stream.Stream<A, ShardStoreFailed | RpcClientError.RpcClientError>) =>
    Stream.unwrapScoped(Effect.map(client, f)).pipe(
      Stream.timeoutFail(timedOut("*"), timeout),
      Stream.tapError((e) => (isTransport(e) ? forget : Effect.void)),
      Stream.mapError((e) => (isTransport(e) ? new ShardStoreFailed({ hash: "*", reason: `${id}: ${e.message}` }) : e))
    )
  return {
    id,
    put: (hash, bytes) => call(hash, (c) => c.ShardStorePut({ hash, bytes })),
    get: (hash) =>
      call(hash, (c) => c.ShardStoreGet({ hash })).pipe(
        Effect.catchTag("ShardStoreFailed", (e) => Effect.fail(new ShardMissing({ hash, reason: e.reason })))
      ),
    has: (hash) => call(hash, (c) => c.ShardStoreHas({ hash })),
    remove: (hash) => call(hash, (c) => c.ShardStoreRemove({ hash })),
    list: stream((c) => c.ShardStoreList({})),
    check: stream((c) => c.ShardStoreCheck({}))
  }
}
