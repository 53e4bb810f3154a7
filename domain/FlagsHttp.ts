/**
 * Feature flags over REST (`/api/v1/admin/flags`), the same as the RPCs
 * `ListFlags` and `SetFlag` (domain/OperationsRpcs.ts): owners and admins
 * only (403 `Forbidden` otherwise, audited). Add the authentication
 * middleware where the group joins the API (domain/Http.ts).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { FeatureFlag, FlagName, FlagState } from "./FeatureFlags.ts"

const name = HttpApiSchema.param("name", FlagName)

export class AdminFlagsApi extends HttpApiGroup.make("adminFlags")
  .add(
    HttpApiEndpoint.get("list", "/admin/flags")
      .addSuccess(Schema.Array(FlagState))
      .annotate(OpenApi.Description, "Every stored flag by name, with whether the answering node acts on its value yet (`effectiveHere`).")
  )
  .add(
    HttpApiEndpoint.put("set")`/admin/flags/${name}`
      .setPayload(Schema.Struct({ enabled: Schema.Boolean }))
      .addSuccess(FeatureFlag)
      .annotate(
        OpenApi.Description,
        "Turns the flag on or off (creating it); every node acts on it within PLEXI_FLAGS_REFRESH. Audited (`admin.flag_set`)."
      )
  )
  .addError(Forbidden)
  .addError(ServiceUnavailable)
  .annotate(OpenApi.Description, "Feature flags, for workspace owners and admins.")
{}
