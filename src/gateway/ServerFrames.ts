/**
 * Encoding of server frames. Every server frame schema in domain/Protocol.ts
 * encodes to itself (no transformations), which the type below checks, so a
 * typed frame is encoded by `JSON.stringify`; the hot `message` frame has a
 * prebuilt encoder, tested against `MessageFrame`.
 */
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import type { ServerFrame as ServerFrameSchema } from "../../domain/Protocol.ts"

type ServerFrame = typeof ServerFrameSchema.Type

/**
 * Fails to compile if a server frame's type is no longer its own encoded
 * form (a transformation such as a Date or a bigint). Brands only narrow the
 * type, so they pass.
 */
type EncodesToItself = ServerFrame extends typeof ServerFrameSchema.Encoded ? true : false
const encodesToItself: EncodesToItself = true
void encodesToItself

export type { ServerFrame }

export const encodeFrame = (frame: ServerFrame): string => JSON.stringify(frame)

/** `{"type":"message","message":…}` without building the wrapper object: once per message and edge. */
export const encodeMessageFrame = (message: Message): string => `{"type":"message","message":${JSON.stringify(message)}}`

/** The uWS topic of a channel's live messages. */
export const topicOf = (channelId: ChannelId) => `c/${channelId}`
