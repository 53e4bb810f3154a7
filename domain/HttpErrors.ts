/**
 * Errors of the HTTP transport itself (`/api/v1` and `/rpc`), answered
 * before a request reaches an endpoint or an RPC. Each is a JSON body
 * `{ "_tag", "message", ... }` with the HTTP status annotated here; a
 * request the schemas refuse gets `InvalidRequest` (400, `domain/Errors.ts`).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** The path is not served by this node. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The path exists but not for this method (e.g. `GET /rpc`); the `allow` header lists the methods. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()(
  "MethodNotAllowed",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 405 })
) {}

/** The request body is larger than `PLEXI_HTTP_MAX_BODY_BYTES` (`maxBytes`). */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String, maxBytes: Schema.Number },
  HttpApiSchema.annotations({ status: 413 })
) {}

/** The request's header names and values are over `PLEXI_HTTP_MAX_HEADER_BYTES` (`maxBytes`). */
export class HeadersTooLarge extends Schema.TaggedError<HeadersTooLarge>()(
  "HeadersTooLarge",
  { message: Schema.String, maxBytes: Schema.Number },
  HttpApiSchema.annotations({ status: 431 })
) {}

/** The request body is not `application/json` (REST) or NDJSON (RPC). */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 415 })
) {}

/** The node failed in a way the request did not cause; it is logged, and the node keeps serving. */
export class InternalError extends Schema.TaggedError<InternalError>()(
  "InternalError",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 500 })
) {}
