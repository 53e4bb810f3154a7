/**
 * Settings of backups, in the `ShardingConfig` style (docs/BACKUPS.md#configuration). Keys are named by file
 * paths, never given inline: the recipients' public key files (to which every backup's data key is wrapped), the
 * cluster's private signing key file (manifests are signed with it), the signing public key file (what verify and
 * restore check manifests against; by default the public half of the signing key), and the shard directory of
 * this node (`LocalShardDirectory`: the CLI's and the embedded single node's store).
 */
import { Config, Context, Option } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { optionalText, text } from "../config/Settings.ts"

export interface BackupConfigShape {
  /** Public recipient key files (`plexichat backup keys generate-recipient`); at least one to make a backup. */
  readonly recipients: ReadonlyArray<string>
  /** The private signing key file (`generate-signing`); needed to make a backup. */
  readonly signingKey: Option.Option<string>
  /** The public signing key file that manifests must verify under; none: the public half of `signingKey`. */
  readonly signingPublic: Option.Option<string>
  /** This node's shard directory. */
  readonly shardDir: string
}

export class BackupConfig extends Context.Tag("plexichat/BackupConfig")<BackupConfig, BackupConfigShape>() {}

export const defaults: BackupConfigShape = {
  recipients: [],
  signingKey: Option.none(),
  signingPublic: Option.none(),
  shardDir: "./data/shards"
}

export const config: Config.Config<BackupConfigShape> = Config.all({
  recipients: Config.string("PLEXI_BACKUP_RECIPIENTS").pipe(
    Config.map((list) => list.split(",").map((p) => p.trim()).filter((p) => p.length > 0)),
    Config.withDefault(defaults.recipients),
    Config.withDescription("Comma-separated paths of recipient public key files; every backup's data key is wrapped to each.")
  ),
  signingKey: optionalText("PLEXI_BACKUP_SIGNING_KEY", "Path of the cluster's private Ed25519 signing key file; manifests are signed with it."),
  signingPublic: optionalText(
    "PLEXI_BACKUP_SIGNING_PUBLIC",
    "Path of the signing public key file that verify and restore check manifests against (default: the public half of PLEXI_BACKUP_SIGNING_KEY)."
  ),
  shardDir: text("PLEXI_BACKUP_SHARD_DIR", defaults.shardDir, "Directory the CLI's backups store and read shards in (LocalShardDirectory); the embedded node's default shard store.")
})

export const { layer, layerFromEnv } = configLayers(BackupConfig, defaults, config)
