/**
 * Every typed RPC a node serves at `/rpc`: the chat operations
 * (domain/Api.ts), the account operations (domain/AuthRpcs.ts,
 * domain/MfaRpcs.ts, domain/WebAuthnRpcs.ts, domain/AdminRpcs.ts) and the
 * operations of the admin CLI (domain/OperationsRpcs.ts). Clients build from
 * this group (`plexichat/client`). Every call's protocol version is checked
 * first (domain/ProtocolVersion.ts).
 */
import { AdminRpcs } from "./AdminRpcs.ts"
import { BackupMaintenanceRpcs } from "./BackupMaintenanceRpcs.ts"
import { ChatRpcs } from "./Api.ts"
import { AuthRpcs, OidcAccountRpcs, SessionRpcs } from "./AuthRpcs.ts"
import { MfaRpcs } from "./MfaRpcs.ts"
import { OperationsRpcs } from "./OperationsRpcs.ts"
import { RpcProtocolCheck } from "./ProtocolVersion.ts"
import { WebAuthnKeyRpcs, WebAuthnRpcs } from "./WebAuthnRpcs.ts"

// The check is added last, so it wraps (and runs before) each group's authentication.
export const PlexiRpcs = ChatRpcs.merge(AuthRpcs, SessionRpcs, MfaRpcs, OidcAccountRpcs, WebAuthnRpcs, WebAuthnKeyRpcs, AdminRpcs, OperationsRpcs, BackupMaintenanceRpcs)
  .middleware(RpcProtocolCheck)
