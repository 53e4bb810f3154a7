/**
 * `backup scrub|repair --url <node>`: the pass run by that node (domain/BackupMaintenanceRpcs.ts) over the cluster's
 * stores, instead of locally over the CLI's own directory, with the remote commands' credentials (Remote.ts).
 */
import { Effect, Option } from "effect"
import type { PlexiClient } from "../client/PlexiClient.ts"
import { accessToken, type RemoteFlags, resolveTarget, withClient } from "./Remote.ts"

export { remoteOptions as nodeOptions } from "./Remote.ts"

/** Whether the command names a node (`--url`): then the node runs the pass. */
export const onNode = (flags: RemoteFlags) => Option.isSome(flags.url)

export const callNode = <A, E>(flags: RemoteFlags, call: (client: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(flags)
    const token = yield* accessToken(target)
    return yield* withClient(target.url, token, call)
  })
