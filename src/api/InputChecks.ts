/**
 * Checks of untrusted client text shared by every door (WebSocket frames,
 * REST and RPC bodies), run before anything parses or echoes it.
 */

/**
 * Whether `text` nests arrays and objects deeper than `max`: a linear scan
 * that skips strings, run before `JSON.parse`, because a deep document
 * overflows the stack of recursive decoders and error formatters.
 */
export const nestedDeeperThan = (text: string, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--
    }
  }
  return false
}

/** At most `max` characters of a text that may echo client input, with an ellipsis when cut. */
export const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)
