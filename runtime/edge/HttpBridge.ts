/**
 * The one bridge from uWebSockets.js HTTP requests to web-standard handlers
 * (`(Request) => Promise<Response>`), which is what Effect's `HttpApp`,
 * `HttpApiBuilder` and `RpcServer` produce. Request bodies are gathered with
 * `onData` (bounded), response bodies are streamed chunk by chunk with
 * backpressure (`onWritable`), so a never-ending RPC stream works too.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js"

export type WebHandler = (request: Request) => Promise<Response>

export interface BridgeOptions {
  /** The most bytes a request body may have; larger bodies get 413. */
  readonly maxBodyBytes: number
}

const statusText: Record<number, string> = {
  200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests",
  500: "Internal Server Error", 503: "Service Unavailable"
}

const skipHeaders = new Set(["content-length", "transfer-encoding", "connection"])

export const bridge = (handler: WebHandler, options: BridgeOptions) => (res: HttpResponse, req: HttpRequest) => {
  // uWS invalidates `req` when this function returns: read everything now.
  const method = req.getMethod().toUpperCase()
  const query = req.getQuery()
  const url = `http://${req.getHeader("host") || "localhost"}${req.getUrl()}${query ? `?${query}` : ""}`
  const headers = new Headers()
  req.forEach((key, value) => headers.append(key, value))

  let aborted = false
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  res.onAborted(() => {
    aborted = true
    void reader?.cancel().catch(() => {})
  })

  const respond = (response: Response) => {
    if (aborted) return void response.body?.cancel().catch(() => {})
    res.cork(() => {
      res.writeStatus(`${response.status} ${statusText[response.status] ?? ""}`.trimEnd())
      response.headers.forEach((value, key) => {
        if (!skipHeaders.has(key)) res.writeHeader(key, value)
      })
    })
    if (response.body === null) {
      res.cork(() => res.end())
      return
    }
    reader = response.body.getReader()
    const pump = (): void => {
      reader!.read().then(({ done, value }) => {
        if (aborted) return
        if (done) return void res.cork(() => res.end())
        let ok = true
        res.cork(() => {
          ok = res.write(value)
        })
        if (ok) return pump()
        res.onWritable(() => {
          pump()
          return true
        })
      }, () => {
        if (!aborted) res.cork(() => res.end())
      })
    }
    pump()
  }

  const fail = (status: number, message: string) => {
    if (aborted) return
    res.cork(() => {
      res.writeStatus(`${status} ${statusText[status] ?? ""}`.trimEnd())
      res.writeHeader("content-type", "application/json")
      res.end(JSON.stringify({ _tag: status === 413 ? "PayloadTooLarge" : "InternalError", message }))
    })
  }

  const dispatch = (body: Uint8Array<ArrayBuffer> | undefined) => {
    let request: Request
    try {
      request = new Request(url, { method, headers, ...(body === undefined ? {} : { body }) })
    } catch (error) {
      return fail(400, String(error))
    }
    handler(request).then(respond, (error) => fail(500, String(error)))
  }

  if (method === "GET" || method === "HEAD") return dispatch(undefined)

  const declared = Number(headers.get("content-length") ?? "0")
  if (declared > options.maxBodyBytes) return fail(413, `request body over ${options.maxBodyBytes} bytes`)
  const chunks: Array<Uint8Array> = []
  let size = 0
  let tooLarge = false
  res.onData((chunk, isLast) => {
    if (tooLarge) return
    size += chunk.byteLength
    if (size > options.maxBodyBytes) {
      tooLarge = true
      return fail(413, `request body over ${options.maxBodyBytes} bytes`)
    }
    // The ArrayBuffer is only valid during this callback: copy it.
    chunks.push(new Uint8Array(chunk.slice(0)))
    if (!isLast) return
    const body = new Uint8Array(size)
    let offset = 0
    for (const c of chunks) {
      body.set(c, offset)
      offset += c.byteLength
    }
    dispatch(body)
  })
}
