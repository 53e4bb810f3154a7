/**
 * Loads uWebSockets.js and tells which engine actually runs. The package we
 * install silently falls back to a slow pure-JS shim over `ws` when its
 * native binary does not load; the native addon's functions are native code.
 */
import { createRequire } from "node:module"
import type * as Uws from "uWebSockets.js"

const require = createRequire(import.meta.url)

export const uws: typeof Uws = require("uWebSockets.js")

export type WebsocketEngine = "uws-native" | "ws-fallback"

export const websocketEngine: WebsocketEngine =
  typeof uws.App === "function" && Function.prototype.toString.call(uws.App).includes("[native code]")
    ? "uws-native"
    : "ws-fallback"
