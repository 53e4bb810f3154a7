/**
 * The two layers of a unit's config module, in the `ShardingConfig` style:
 * `layer(options)` gives the defaults with `options` on top (tests,
 * embedding); `layerFromEnv(options)` reads the unit's `config` from the
 * current `ConfigProvider` (the environment) with `options` on top, and a
 * bad value stops the start with a defect that names the variable.
 */
import { type Config, type Context, Effect, Layer } from "effect"

export const configLayers = <I, S extends object>(tag: Context.Tag<I, S>, defaults: S, config: Config.Config<S>) => ({
  layer: (options?: Partial<S>): Layer.Layer<I> => Layer.succeed(tag, { ...defaults, ...options }),
  layerFromEnv: (options?: Partial<S>): Layer.Layer<I> =>
    Layer.effect(tag, Effect.map(Effect.orDie(config), (c) => ({ ...c, ...options })))
})
