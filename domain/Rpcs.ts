/**
 * Every typed RPC a node serves at `/rpc`: the chat operations
 * (domain/Api.ts) and the account operations (domain/AuthRpcs.ts,
 * domain/MfaRpcs.ts, domain/WebAuthnRpcs.ts, domain/AdminRpcs.ts). Clients
 * build from this group (`plexichat/client`).
 */
import { AdminRpcs } from "./AdminRpcs.ts"
import { ChatRpcs } from "./Api.ts"
import { AuthRpcs, OidcAccountRpcs, SessionRpcs } from "./AuthRpcs.ts"
import { MfaRpcs } from "./MfaRpcs.ts"
import { WebAuthnKeyRpcs, WebAuthnRpcs } from "./WebAuthnRpcs.ts"

export const PlexiRpcs = ChatRpcs.merge(AuthRpcs, SessionRpcs, MfaRpcs, OidcAccountRpcs, WebAuthnRpcs, WebAuthnKeyRpcs, AdminRpcs)
