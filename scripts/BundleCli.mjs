/**
 * Bundles the admin CLI into one file, `dist/runtime/cli/Main.js` (the package's `bin`), over what `tsc` wrote there.
 *
 * Why: unbundled, one `plexichat` run opens ~1,150 ES modules (Effect, the cluster, RPC, SQL, PlexiChat's own),
 * and Node 20 resolves and compiles each one: ~1.2 s on an idle machine, 2.2–2.9 s on a busy one, before the command
 * does anything. One 3 MB file starts in ~0.6–0.9 s on the same busy machine. Native addons stay outside the bundle
 * (the CLI loads neither), and CommonJS dependencies (the `pg` driver) get a `require` from `createRequire`.
 * The node itself (`dist/runtime/main.js`) is not bundled: it starts once, and its stack traces name real files.
 */
import { build } from "esbuild"

await build({
  entryPoints: ["runtime/cli/Main.ts"],
  outfile: "dist/runtime/cli/Main.js",
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["uWebSockets.js", "@node-rs/*"],
  banner: { js: "import { createRequire as plexiCreateRequire } from \"node:module\";\nconst require = plexiCreateRequire(import.meta.url);" },
  logLevel: "warning"
})
