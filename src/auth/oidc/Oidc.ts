/**
 * OpenID Connect sign-in, for every door that offers it (REST today): the
 * configured providers (`OidcConfig.ts`), their relying-party side
 * (`OidcProviders.ts`, through `openid-client`), the flows
 * (`OidcFlows.ts`), sign-in (`OidcSignIn.ts`) and linked identities
 * (`OidcLinks.ts`), on the account kit that password sign-in uses.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { UserId } from "../../../domain/Ids.ts"
import { Accounts } from "../Accounts.ts"
import { OidcConfig } from "./OidcConfig.ts"
import { makeOidcProviders } from "./OidcProviders.ts"
import { makeFlows } from "./OidcFlows.ts"
import { makeLinks } from "./OidcLinks.ts"
import { makeSignIn } from "./OidcSignIn.ts"
import { OidcStore } from "./OidcStore.ts"

const make = Effect.gen(function*() {
  const config = yield* OidcConfig
  const accounts = yield* Accounts
  const rows = yield* OidcStore
  const providers = makeOidcProviders(config)
  const deps = {
    kit: accounts.kit,
    secondFactor: accounts.mfa.gate,
    providers,
    rows,
    flowTtl: config.flowTtl,
    linkByEmail: config.linkByEmail
  }
  const flows = makeFlows(deps)
  return {
    list: providers.providers.map((p) => ({ id: p.id, name: p.name })),
    /** Starts a sign-in from `ip`, past one token of the address's start budget (each start stores a flow). */
    start: (providerId: string, ip: string) => flows.start(providerId, Option.none(), accounts.kit.throttle.oidcStart(ip)),
    /** Starts linking `userId`'s account (the caller's request budget bounds it: it needs an access token). */
    startLink: (providerId: string, userId: UserId) => flows.start(providerId, Option.some(userId), Effect.void),
    ...makeSignIn(deps, flows),
    ...makeLinks(deps, flows)
  } as const
})

export class Oidc extends Context.Tag("plexichat/Oidc")<Oidc, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(Oidc, make).pipe(Layer.provide(OidcStore.Default))
}
