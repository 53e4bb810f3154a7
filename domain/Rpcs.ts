/**
 * Every typed RPC a node serves at `/rpc`: the chat operations
 * (domain/Api.ts), the account operations (domain/AuthRpcs.ts,
 * domain/MfaRpcs.ts, domain/WebAuthnRpcs.ts, domain/AdminRpcs.ts) and the
 * operations of the admin CLI (domain/OperationsRpcs.ts, domain/BackupRpcs.ts). Clients build from
 * this group (`plexichat/client`). Every call's protocol version is checked
 * first (domain/ProtocolVersion.ts), and its failures counted
 * (domain/RpcErrorCount.ts).
 */
import { AdminRpcs } from "./AdminRpcs.ts"
import { BackupMaintenanceRpcs } from "./BackupMaintenanceRpcs.ts"
import { ChatRpcs } from "./Api.ts"
import { BackupRpcs } from "./BackupRpcs.ts"
import { AuthRpcs, OidcAccountRpcs, SessionRpcs } from "./AuthRpcs.ts"
import { MfaRpcs } from "./MfaRpcs.ts"
import { OperationsRpcs } from "./OperationsRpcs.ts"
import { RpcProtocolCheck } from "./ProtocolVersion.ts"
import { RpcErrorCount } from "./RpcErrorCount.ts"
import { WebAuthnKeyRpcs, WebAuthnRpcs } from "./WebAuthnRpcs.ts"

// The check is added after each group's authentication, so it wraps (and runs before) it; the error count
// (server-side only) last, so it sees every failure, the check's and authentication's included.
export const PlexiRpcs = ChatRpcs.merge(AuthRpcs, SessionRpcs, MfaRpcs, OidcAccountRpcs, WebAuthnRpcs, WebAuthnKeyRpcs, AdminRpcs, OperationsRpcs, BackupRpcs, BackupMaintenanceRpcs)
  .middleware(RpcProtocolCheck)
  .middleware(RpcErrorCount)
