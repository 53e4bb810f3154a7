/**
 * `plexichat backup keys generate-recipient|generate-signing|show|export` (docs/BACKUPS.md#keys-and-key-files); the
 * rotations (`rotate-recipient`, `rotate-signing`) are in BackupKeyRotateCommands.ts.
 *
 * - `generate-recipient --out <dir>` writes `backup-recipient.pub` and `backup-recipient.key` (an operator's
 *   X25519 + ML-KEM-768 pair, to which backups' data keys are wrapped);
 * - `generate-signing --out <dir>` writes `backup-signing.pub` and `backup-signing.key` (the cluster's Ed25519
 *   manifest signing pair);
 * - `show <file>` prints a key file's public part and fingerprint (of a private file: its public half);
 * - `export <file> --out <file>` writes that public part as a key file of its own (mode 0644, never over a file).
 *
 * The directory is made with mode 0700 if missing; `.key` files get mode 0600 and no file is overwritten. A private
 * key is never printed or logged; a failure names the file and the problem and exits with status 1.
 */
import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Console, Effect } from "effect"
import {
  generateRecipient,
  generateSigning,
  recipientFingerprint,
  recipientPublicOf,
  signingFingerprint,
  signingPublicOf
} from "../backup/crypto/BackupKeys.ts"
import { decodeKeyFile, encodeKeyFile, type KeyFileContents } from "../backup/crypto/KeyFiles.ts"
import { rotateCommands } from "./BackupKeyRotateCommands.ts"

const failed = (message: string) =>
  Effect.zipRight(Console.error(message), Effect.sync(() => {
    process.exitCode = 1
  }))

const outOption = Options.text("out").pipe(Options.withDescription("The directory to write the two key files into (made with mode 0700 if missing)."))

/** Writes the pair's files, the private one first with mode 0600, neither over an existing file. */
const writePair = (dir: string, name: string, publicFile: KeyFileContents, privateFile: KeyFileContents, fingerprint: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const [pub, key] = [path.join(dir, `${name}.pub`), path.join(dir, `${name}.key`)]
    for (const file of [pub, key]) {
      if (yield* fs.exists(file)) return yield* failed(`${file} exists already; nothing is overwritten`)
    }
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
    yield* fs.writeFileString(key, encodeKeyFile(privateFile), { flag: "wx", mode: 0o600 })
    // The mode given to open() is masked by the umask; set it explicitly too (only ever narrower than 0600).
    yield* fs.chmod(key, 0o600)
    yield* fs.writeFileString(pub, encodeKeyFile(publicFile), { flag: "wx", mode: 0o644 })
    yield* Console.log(`wrote ${pub} (public) and ${key} (private, mode 0600)\nfingerprint ${fingerprint}`)
  }).pipe(Effect.catchTag("SystemError", (e) => failed(`cannot write the key files in ${dir}: ${e.reason} (${e.method}); nothing is overwritten`)))

const generateRecipientCommand = Command.make("generate-recipient", { out: outOption }, ({ out }) => {
  const { privateKey, publicKey } = generateRecipient()
  return writePair(out, "backup-recipient", { _tag: "RecipientPublic", key: publicKey }, { _tag: "RecipientPrivate", key: privateKey }, recipientFingerprint(publicKey))
}).pipe(Command.withDescription("Generates an operator's recipient key pair (X25519 + ML-KEM-768): backups' data keys are wrapped to its public file."))

const generateSigningCommand = Command.make("generate-signing", { out: outOption }, ({ out }) => {
  const { privateKey, publicKey } = generateSigning()
  return writePair(out, "backup-signing", { _tag: "SigningPublic", key: publicKey }, { _tag: "SigningPrivate", key: privateKey }, signingFingerprint(publicKey))
}).pipe(Command.withDescription("Generates the cluster's Ed25519 manifest signing key pair."))

/** The public half of a key file, its kind and fingerprint. */
const publicPart = (contents: KeyFileContents): { readonly file: KeyFileContents; readonly fingerprint: string; readonly of: string } => {
  switch (contents._tag) {
    case "RecipientPublic":
      return { file: contents, fingerprint: recipientFingerprint(contents.key), of: "a recipient public key" }
    case "RecipientPrivate": {
      const key = recipientPublicOf(contents.key)
      return { file: { _tag: "RecipientPublic", key }, fingerprint: recipientFingerprint(key), of: "the public half of a recipient private key" }
    }
    case "SigningPublic":
      return { file: contents, fingerprint: signingFingerprint(contents.key), of: "a signing public key" }
    case "SigningPrivate": {
      const key = signingPublicOf(contents.key)
      return { file: { _tag: "SigningPublic", key }, fingerprint: signingFingerprint(key), of: "the public half of a signing private key" }
    }
  }
}

/** A key file's contents; one that cannot be read or is not a key file fails with a message naming the file (not its contents). */
const readKeyFile = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.flatMap(decodeKeyFile),
    Effect.mapError((e) => (e._tag === "KeyInvalid" ? `${file}: ${e.reason}` : `cannot read ${file}: ${e._tag === "SystemError" ? e.reason : e.message}`))
  )

const showCommand = Command.make("show", { file: Args.text({ name: "file" }).pipe(Args.withDescription("A key file.")) }, ({ file }) =>
  Effect.gen(function*() {
    const shown = publicPart(yield* readKeyFile(file))
    yield* Console.log(`${shown.of}\nfingerprint ${shown.fingerprint}\n${encodeKeyFile(shown.file).trimEnd()}`)
  }).pipe(Effect.catchAll(failed))).pipe(Command.withDescription("Prints a key file's public part and fingerprint (never a private key)."))

const exportCommand = Command.make("export", {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("A key file (public or private).")),
  out: Options.text("out").pipe(Options.withDescription("The public key file to write (never over an existing file)."))
}, ({ file, out }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const shown = publicPart(yield* readKeyFile(file))
    yield* Effect.mapError(fs.writeFileString(out, encodeKeyFile(shown.file), { flag: "wx", mode: 0o644 }), (e) => `cannot write ${out}: ${e._tag === "SystemError" ? e.reason : e.message}; nothing is overwritten`)
    yield* Console.log(`wrote ${out}: ${shown.of}\nfingerprint ${shown.fingerprint}`)
  }).pipe(Effect.catchAll(failed))).pipe(Command.withDescription("Writes a key file's public part (of a private file: its public half) to --out; never a private key."))

/** `plexichat backup keys …`. */
export const keysCommand = Command.make("keys").pipe(
  Command.withDescription("Backup keys: recipient pairs (data-key wrapping) and the manifest signing pair; their rotation over the catalog."),
  Command.withSubcommands([generateRecipientCommand, generateSigningCommand, showCommand, exportCommand, ...rotateCommands])
)
