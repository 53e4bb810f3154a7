/**
 * OpenID Connect sign-in, for every door that offers it (REST today): the
 * configured providers (`OidcConfig.ts`), their relying-party side
 * (`OidcProviders.ts`, through `openid-client`), the flows
 * (`OidcFlows.ts`), sign-in (`OidcSignIn.ts`) and linked identities
 * (`OidcLinks.ts`), on the account kit that password sign-in uses.
 */
import { Context, Effect, Layer } from "effect"
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
    start: flows.start,
    ...makeSignIn(deps, flows),
    ...makeLinks(deps, flows)
  } as const
})

export class Oidc extends Context.Tag("plexichat/Oidc")<Oidc, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(Oidc, make).pipe(Layer.provide(OidcStore.Default))
}
