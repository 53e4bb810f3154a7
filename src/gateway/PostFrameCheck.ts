/**
 * The `post` frame checked by hand, for the hot path: a thin-traffic node decodes one per message, and the Schema
 * decoder (with `errors: "all"` and its parse-issue machinery) was ~3% of the node's busy time. It accepts exactly
 * what `PostFrame` (domain/Protocol.ts) accepts and returns what that decode returns; anything it does not accept
 * goes to the Schema decoder, so refusals and their messages are the schema's. test/unit/PostFrameCheck.test.ts
 * checks it against the schema with generated frames.
 */
import { clientMsgIdMaxLength, messageBodyMaxLength } from "../../domain/Channel.ts"
import { idMaxLength, idPattern } from "../../domain/Ids.ts"
import { isRef, type PostFrame } from "../../domain/Protocol.ts"
import { isStorableText } from "../../domain/Text.ts"

type Post = typeof PostFrame.Type

/** `ChannelId`'s rule (domain/Ids.ts). */
const isId = (v: unknown): v is string => typeof v === "string" && v.length >= 1 && v.length <= idMaxLength && idPattern.test(v)

const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max && isStorableText(v)

/**
 * The decoded frame when `json` (an object from `JSON.parse` whose `type` is "post": own properties only) is a valid
 * post frame; else undefined.
 */
export const checkPostFrame = (json: object): Post | undefined => {
  const { body, channelId, clientMsgId, ref } = json as { readonly [K in "body" | "channelId" | "clientMsgId" | "ref"]?: unknown }
  if (!isId(channelId) || !isText(clientMsgId, clientMsgIdMaxLength) || !isText(body, messageBodyMaxLength)) return undefined
  if (!Object.hasOwn(json, "ref")) return { type: "post", channelId, clientMsgId, body } as Post
  return isRef(ref) ? { type: "post", channelId, clientMsgId, body, ref } as Post : undefined
}
