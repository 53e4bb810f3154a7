/**
 * The key the per-address connection limits count under. An IPv4 address is
 * its own key; an IPv6 address is keyed on its /64 (one host or customer
 * usually holds a whole /64, so keying on the full address would let it open
 * unlimited connections); an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
 * which a dual-stack socket reports for IPv4 clients) is keyed on the IPv4
 * address. Text that is no IP address is its own key.
 */

/** The eight 16-bit groups of an IPv6 address (compressed, expanded or with a dotted IPv4 tail), or undefined. */
const ipv6Groups = (text: string): Array<number> | undefined => {
  let address = text.toLowerCase()
  const zone = address.indexOf("%")
  if (zone >= 0) address = address.slice(0, zone)
  const tail: Array<number> = []
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address)
  if (dotted !== null) {
    const bytes = dotted.slice(2).map(Number)
    if (bytes.some((b) => b > 255)) return undefined
    tail.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!)
    address = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1)
  }
  const halves = address.split("::")
  if (halves.length > 2) return undefined
  const parse = (part: string) => part === "" ? [] : part.split(":")
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined
  const missing = 8 - tail.length - head.length - rest.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest]
    .map((g) => parseInt(g, 16))
    .concat(tail)
}

const hex = (n: number) => n.toString(16)

export const addressKey = (address: string): string => {
  if (!address.includes(":")) return address
  const groups = ipv6Groups(address)
  if (groups === undefined) return address
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
  if (mapped) return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".")
  return `${groups.slice(0, 4).map(hex).join(":")}::/64`
}
