/**
 * The canonical JSON that manifests are signed in: RFC 8785 (JCS) restricted to what manifests hold. Objects have
 * their members sorted by key in UTF-16 code units, no white space anywhere, strings escaped as
 * `JSON.stringify` does (RFC 8785 §3.2.2.2), numbers only safe integers (written in decimal, no `-0`), and
 * `null`, `true`, `false`, arrays. Anything else (other numbers, `undefined`, functions, a lone surrogate) is refused.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value === "boolean") return String(value)
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds only safe integers, not ${value}`)
    return String(value === 0 ? 0 : value)
  }
  if (typeof value === "string") {
    if (!value.isWellFormed()) throw new TypeError("canonical JSON holds only well-formed strings")
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${canonicalJson(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`)
}
