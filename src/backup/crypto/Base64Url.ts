/** Unpadded base64url (RFC 4648 §5) fields of the backup formats, decoded strictly. */
import { Schema } from "effect"

/** A base64url string without padding, of a decoded length of exactly `bytes`. */
export const Base64UrlBytes = (bytes: number) =>
  Schema.String.pipe(
    Schema.filter((text) =>
      /^[A-Za-z0-9_-]*$/.test(text) && text.length === Math.ceil((bytes * 4) / 3) && Buffer.from(text, "base64url").toString("base64url") === text,
      { message: () => `unpadded base64url of ${bytes} bytes` }
    )
  )

export const encode = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

export const decode = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "base64url"))
