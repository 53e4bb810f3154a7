/**
 * Text PlexiChat stores and echoes back exactly as it was sent.
 *
 * Postgres `text` cannot hold NUL (U+0000), and a lone UTF-16 surrogate has
 * no UTF-8 form, so it would come back as U+FFFD: two different client
 * strings would become one stored string. Both are refused as bad input.
 */
import { Schema } from "effect"

/** True when `s` round-trips through UTF-8 and Postgres unchanged. */
export const isStorableText = (s: string): boolean => !s.includes("\u0000") && s.isWellFormed()

/** A string without NUL and without unpaired surrogates. */
export const StorableText = Schema.String.pipe(
  Schema.filter((s) => isStorableText(s) || "must not contain NUL (U+0000) or unpaired UTF-16 surrogates", {
    identifier: "StorableText",
    jsonSchema: { type: "string", description: "No NUL (U+0000) and no unpaired UTF-16 surrogates." }
  })
)
