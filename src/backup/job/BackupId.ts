/** New backup ids: `bk_`, 10 base32 digits of the time in ms (so ids sort by creation), 16 random base32 digits. */
import { randomBytes } from "node:crypto"

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

export const newBackupId = (now: number = Date.now()): string => {
  let time = ""
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = alphabet[t % 32] + time
  const random = Array.from(randomBytes(16), (b) => alphabet[b % 32]).join("")
  return `bk_${time}${random}`
}
