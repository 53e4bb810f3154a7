/**
 * This build's release: the package version (package.json's `version`,
 * test/unit/Release.test.ts keeps the two equal) and the typed RPC protocol
 * version (domain/ProtocolVersion.ts).
 */
export { PROTOCOL_VERSION } from "../domain/ProtocolVersion.ts"

export const PACKAGE_VERSION = "0.1.0"
