/**
 * A mixed-release cluster with two real releases on one real Postgres: a
 * node of the previous release (protocol 1.1, the pinned commit of main
 * below, run from its own sources; PreviousRelease.ts) started first, then a
 * node of this release (protocol 1.2), which migrates the shared schema on
 * (0016, additive) while the old node keeps running, as in a rolling upgrade
 * (docs/OPERATIONS.md, "Versions and upgrades"). Posts through either node to
 * channels owned by either reach subscribers on both (Channel entity calls
 * between runners of both releases, both ways); typed clients of 1.1 and 1.2
 * are served by both nodes, a client two minor versions away from a node is
 * refused by it with `IncompatibleProtocol`; `ClusterStatus` of the new node
 * shows its release and the old node's as unrecorded, and the old node's
 * answer (without the 1.2 fields) decodes in a 1.2 client.
 *
 * Fails (does not skip) without the git history that holds the pinned commit.
 */
import { Effect, Either } from "effect"
import { PlexiClient } from "plexichat/client"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PROTOCOL_VERSION } from "../../domain/ProtocolVersion.ts"
import { PACKAGE_VERSION } from "../../runtime/Release.ts"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { ownerOf, settledShards } from "../fixtures/ClusterHelpers.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { scrape } from "../fixtures/PrometheusScrape.ts"
import { previousRelease } from "../fixtures/PreviousRelease.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

/**
 * main before protocol 1.2 (6454ded, "gitignore: *.orig"): protocol 1.1, migrations up to 0013. When a later
 * release moves the protocol on, pin the last commit of the release before it here (the first check says so).
 */
const PREVIOUS = "6454ded0d13b405a02024ef1061ae06bbf776fef"
const PREVIOUS_PROTOCOL = "1.1"

const call = <A, E>(node: NodeProcess, protocolVersion: string, token: string, f: (c: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.flatMap(PlexiClient, f).pipe(Effect.either, Effect.provide(PlexiClient.layer({ url: node.url, token, protocolVersion }))))

describe("a cluster of two releases (previous: protocol 1.1; this one: 1.2) on one Postgres", () => {
  let db: TestDatabase | undefined
  let old: NodeProcess | undefined
  let current: NodeProcess | undefined
  const nodes = () => [old!, current!] as const

  beforeAll(async () => {
    expect(PROTOCOL_VERSION, "this release's protocol is one minor version after the previous one's").toBe("1.2")
    const root = previousRelease(PREVIOUS)
    db = await makeTestDatabase()
    expect(db.kind, "this test needs the real Postgres at 127.0.0.1:5432").toBe("postgres")
    // The old release first (it migrates to 0013), then this one (0016) while the old node keeps running.
    old = await startNode({ name: "mixed-old", databaseUrl: db.url, root })
    current = await startNode({ name: "mixed-new", databaseUrl: db.url })
    await settledShards(nodes(), 100, 60_000)
  }, 180_000)

  afterAll(async () => {
    await Promise.all([old?.stop(), current?.stop()])
    await db?.drop()
  })

  it("delivers posts through either node, to channels owned by either, to subscribers on both", async () => {
    const [a, b] = nodes()
    const alice = await signedIn(b.url, "mixed-alice")
    const bob = await signedIn(a.url, "mixed-bob")
    // Channels until each node owns at least two.
    const channels: Array<{ id: string; owner: NodeProcess }> = []
    for (let i = 0; channels.filter((c) => c.owner === a).length < 2 || channels.filter((c) => c.owner === b).length < 2; i++) {
      if (i >= 40) throw new Error("40 channels and still not two owned by each node")
      const { id } = await rest(i % 2 === 0 ? b.url : a.url, alice.token).createChannel(`mixed-${i}`)
      await rest(a.url, bob.token).join(id)
      channels.push({ id, owner: (await ownerOf(nodes(), id))! })
    }
    const onOld = await WsClient.connect(a.wsUrl, alice.token)
    const onNew = await WsClient.connect(b.wsUrl, bob.token)
    for (const ws of [onOld, onNew]) {
      for (const { id } of channels) expect(await ws.request({ type: "subscribe", channelId: id })).toMatchObject({ type: "subscribed" })
    }
    const before = await Promise.all(nodes().map((n) => scrape(n.url)))
    // From each node, as each user, to every channel: old → new-owned, new → old-owned, and to its own.
    for (const { id } of channels) {
      for (let i = 0; i < 2; i++) {
        expect(await onOld.request({ type: "post", channelId: id, clientMsgId: `old-${i}`, body: `via old ${i}` })).toMatchObject({ type: "ack" })
        expect(await onNew.request({ type: "post", channelId: id, clientMsgId: `new-${i}`, body: `via new ${i}` })).toMatchObject({ type: "ack" })
      }
    }
    for (const ws of [onOld, onNew]) {
      for (const { id } of channels) {
        await expect.poll(() => ws.messages(id).length, { timeout: 10_000 }).toBe(4)
        expect(ws.messages(id).map((m) => m.seq)).toEqual([1, 2, 3, 4])
        expect(ws.messages(id).map((m) => m.body).sort()).toEqual(["via new 0", "via new 1", "via old 0", "via old 1"])
      }
    }
    // Each node reached channels owned by the other through the cluster (an entity call between the releases).
    const after = await Promise.all(nodes().map((n) => scrape(n.url)))
    for (const i of [0, 1]) {
      const clusterCalls = after[i]!.value("plexichat_channel_calls_total", { path: "cluster" }) -
        before[i]!.value("plexichat_channel_calls_total", { path: "cluster" })
      expect(clusterCalls, `cluster-path channel calls on ${nodes()[i]!.name}`).toBeGreaterThan(0)
    }
    onOld.close()
    onNew.close()
  }, 120_000)

  it("serves typed clients of both protocol minors on both nodes and refuses one two minors away from a node", async () => {
    const [a, b] = nodes()
    const carol = await signedIn(b.url, "mixed-carol")
    for (const node of [a, b]) {
      for (const version of [PREVIOUS_PROTOCOL, PROTOCOL_VERSION]) {
        const me = await call(node, version, carol.token, (c) => c.Me({}))
        expect(Either.isRight(me) && me.right, `a ${version} client of ${node.name}`).toMatchObject({ displayName: "mixed-carol" })
      }
    }
    // 1.0 is two minors from the new node (served by the old one); 1.3 is two from the old node (served by the new one).
    const refusedByNew = await call(b, "1.0", carol.token, (c) => c.Me({}))
    expect(Either.isLeft(refusedByNew) && refusedByNew.left).toMatchObject({ _tag: "IncompatibleProtocol", clientVersion: "1.0", serverVersion: "1.2" })
    expect(Either.isRight(await call(a, "1.0", carol.token, (c) => c.Me({})))).toBe(true)
    const refusedByOld = await call(a, "1.3", carol.token, (c) => c.Me({}))
    expect(Either.isLeft(refusedByOld) && refusedByOld.left).toMatchObject({ _tag: "IncompatibleProtocol", clientVersion: "1.3", serverVersion: "1.1" })
    expect(Either.isLeft(refusedByOld) && refusedByOld.left).toMatchObject({ message: expect.stringContaining("upgrade the node") })
    expect(Either.isRight(await call(b, "1.3", carol.token, (c) => c.Me({})))).toBe(true)
  }, 60_000)

  it("status on the new node names each node's release, the old one's as unrecorded; the old node's status decodes in a 1.2 client", async () => {
    const [a, b] = nodes()
    // mixed-alice signed up first: the workspace's owner.
    const owner = await signedIn(b.url, "mixed-alice")
    const fromNew = await call(b, PROTOCOL_VERSION, owner.token, (c) => c.ClusterStatus({}))
    if (Either.isLeft(fromNew)) throw new Error(`ClusterStatus on the new node: ${JSON.stringify(fromNew.left)}`)
    expect(fromNew.right).toMatchObject({ protocolVersion: "1.2", schemaVersion: 16, answeredBy: { nodeId: "mixed-new" } })
    expect(fromNew.right.answeredBy.commitLatency).toBeDefined()
    expect(fromNew.right.nodes.map((n) => n.release?.protocolVersion ?? "unrecorded").sort()).toEqual(["1.2", "unrecorded"])
    expect(fromNew.right.nodes.find((n) => n.self)!.release).toMatchObject({ packageVersion: PACKAGE_VERSION, protocolVersion: "1.2" })
    const fromOld = await call(a, PROTOCOL_VERSION, owner.token, (c) => c.ClusterStatus({}))
    if (Either.isLeft(fromOld)) throw new Error(`ClusterStatus on the old node: ${JSON.stringify(fromOld.left)}`)
    expect(fromOld.right).toMatchObject({ protocolVersion: PREVIOUS_PROTOCOL, schemaVersion: 16, answeredBy: { nodeId: "mixed-old" } })
    expect(fromOld.right.answeredBy.commitLatency).toBeUndefined()
    expect(fromOld.right.nodes).toHaveLength(2)
    for (const n of fromOld.right.nodes) expect(n.release).toBeUndefined()
  }, 60_000)
})
