/**
 * When the nodes start backups by themselves (BackupSchedule.ts), in the `ShardingConfig` style: a cron expression
 * (`minute hour day month weekday`, optionally with seconds first; UTC) for full backups and one for incrementals,
 * each off when unset (the default). A malformed expression stops the node naming its variable.
 */
import { Config, ConfigError, Context, Cron, Either, Option } from "effect"
import { configLayers } from "../../config/ConfigLayers.ts"

export interface BackupScheduleConfigShape {
  readonly full: Option.Option<Cron.Cron>
  readonly incremental: Option.Option<Cron.Cron>
}

export class BackupScheduleConfig extends Context.Tag("plexichat/BackupScheduleConfig")<BackupScheduleConfig, BackupScheduleConfigShape>() {}

export const defaults: BackupScheduleConfigShape = { full: Option.none(), incremental: Option.none() }

const schedule = (name: string, description: string) =>
  Config.option(Config.string(name).pipe(
    Config.mapOrFail((text) =>
      Either.mapLeft(Cron.parse(text.trim(), "UTC"), (e) => ConfigErrorOf(name, `${name} is not a cron expression (${e.message}): ${text.slice(0, 80)}`))),
    Config.withDescription(description)
  ))

const ConfigErrorOf = (name: string, message: string) => ConfigError.InvalidData([name], message)

export const config: Config.Config<BackupScheduleConfigShape> = Config.all({
  full: schedule("PLEXI_BACKUP_FULL_SCHEDULE", "Cron expression (UTC) of scheduled full backups, e.g. \"0 3 * * 0\" (Sundays 03:00); unset: none."),
  incremental: schedule("PLEXI_BACKUP_INCREMENTAL_SCHEDULE", "Cron expression (UTC) of scheduled incremental backups, e.g. \"0 * * * *\" (hourly); unset: none.")
})

export const { layer, layerFromEnv } = configLayers(BackupScheduleConfig, defaults, config)
