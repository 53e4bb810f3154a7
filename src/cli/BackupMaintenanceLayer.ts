/**
 * What the CLI's maintenance commands (`backup prune|gc|scrub|repair`) run on: the installation's Postgres
 * (`DATABASE_URL`, the catalog), the CLI's own shard store (`LocalShardDirectory` at `PLEXI_BACKUP_SHARD_DIR`, one
 * copy), retention settings from the environment, and the repair and scrub passes over that one store. The CLI
 * owns this store, so the passes run here, in its process (docs/BACKUPS.md#the-cli); the nodes' stores are kept by
 * their own maintenance singleton.
 */
import { Effect, Layer } from "effect"
import { BackupConfig } from "../backup/BackupConfig.ts"
import * as BackupRetention from "../backup/retention/BackupRetention.ts"
import * as RetentionConfig from "../backup/retention/RetentionConfig.ts"
import * as ShardMaintenance from "../backup/scrub/ShardMaintenance.ts"
import * as ShardStoreConfig from "../backup/store/ShardStoreConfig.ts"
import { localShardStoreNode } from "../backup/store/ShardStoreNode.ts"
import { ShardStorePeers } from "../backup/store/ShardStorePeers.ts"
import { BackupLayer } from "./BackupCliSupport.ts"

const localPeers = Layer.effect(ShardStorePeers, Effect.map(BackupConfig, (c) => {
  const stores = Effect.succeed([localShardStoreNode(c.shardDir, "local")])
  return { live: stores, registered: stores }
}))

const passes = ShardMaintenance.layer.pipe(Layer.provide(Layer.merge(localPeers, ShardStoreConfig.layer({ replicas: 1 }))))

export const MaintenanceLayer = Layer.mergeAll(BackupRetention.layer, passes).pipe(
  Layer.provideMerge(Layer.merge(BackupLayer, RetentionConfig.layerFromEnv()))
)
