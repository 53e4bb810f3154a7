/**
 * Settings of the admin CLI's remote commands (those that talk to a running
 * node over the typed RPC client): the node's URL and the credentials, each
 * of which a flag overrides. The stored login (`plexichat login`) is kept in
 * `PLEXI_CLI_CREDENTIALS`, by default `$XDG_CONFIG_HOME/plexichat/credentials.json`
 * (`~/.config/plexichat/credentials.json`). README's configuration table lists the same names.
 */
import { Config, Option } from "effect"

export const remoteConfig = Config.all({
  url: Config.option(Config.string("PLEXI_URL").pipe(Config.withDescription("Base URL of any node, e.g. http://localhost:8080."))),
  token: Config.option(Config.redacted("PLEXI_TOKEN").pipe(Config.withDescription("An access token to call with (no login is stored)."))),
  username: Config.option(Config.string("PLEXI_USERNAME").pipe(Config.withDescription("Sign in with this username (with PLEXI_PASSWORD)."))),
  password: Config.option(Config.redacted("PLEXI_PASSWORD").pipe(Config.withDescription("The password of PLEXI_USERNAME."))),
  credentialsFile: Config.option(Config.string("PLEXI_CLI_CREDENTIALS").pipe(Config.withDescription("Where `plexichat login` keeps its login."))),
  configHome: Config.option(Config.string("XDG_CONFIG_HOME")),
  home: Config.string("HOME").pipe(Config.withDefault("."))
})

export type RemoteSettings = Config.Config.Success<typeof remoteConfig>

/** The stored login's file. */
export const credentialsPath = (settings: RemoteSettings) =>
  Option.getOrElse(
    settings.credentialsFile,
    () => `${Option.getOrElse(settings.configHome, () => `${settings.home}/.config`)}/plexichat/credentials.json`
  )
