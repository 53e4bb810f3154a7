/**
 * The one bridge from uWebSockets.js HTTP requests to a web-standard handler
 * (`(Request) => Promise<Response>`), which is what `HttpApp.toWebHandlerRuntime`
 * produces. Request bodies are gathered with `onData` (bounded), response
 * bodies are streamed chunk by chunk with backpressure (`onWritable`), so a
 * never-ending RPC stream works too. Each `Request` carries an `AbortSignal`
 * that fires when the client goes away, which interrupts its handler fiber.
 *
 * Nothing a request contains may throw out of a uWS callback (that kills the
 * process): every callback is guarded, a header the web `Headers` refuses is
 * answered 400, and anything unexpected is reported and answered 500.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js"
import { PEER_ADDRESS_HEADER } from "../../src/api/ClientAddress.ts"
import type { HeaderList } from "./SecurityHeaders.ts"

export type WebHandler = (request: Request) => Promise<Response>

export interface BridgeOptions {
  /** The most bytes a request body may have; larger bodies get 413. */
  readonly maxBodyBytes: number
  /**
   * The most bytes of header names and values a request may have; more get
   * 431 (unset: no limit of ours). uWS itself drops a connection whose header
   * block passes about 64 KiB, without an answer.
   */
  readonly maxHeaderBytes?: number | undefined
  /** Called with anything that went wrong on the node's side (it is logged there). */
  readonly onDefect: (error: unknown) => void
  /**
   * Headers on every answer written here (the node's security headers): the
   * handler's responses, unless one sets the same header itself, and the
   * bridge's own refusals (400, 413, 500).
   */
  readonly headers?: HeaderList | undefined
  /** More headers on the bridge's own refusals, from the request's headers (CORS: the handler never saw these requests). */
  readonly refusalHeaders?: ((request: Headers) => HeaderList) | undefined
}

const statusText: Record<number, string> = {
  200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
  415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"
}

const statusLine = (status: number) => `${status} ${statusText[status] ?? ""}`.trimEnd()

const skipHeaders = new Set(["content-length", "transfer-encoding", "connection"])

/** One exchange: the uWS response plus whether the client went away or an answer has started. */
interface Exchange {
  readonly res: HttpResponse
  readonly abort: AbortController
  readonly options: BridgeOptions
  /** A HEAD request: answered with the headers only. */
  head: boolean
  aborted: boolean
  answered: boolean
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  /** `refusalHeaders` of this request, once its headers are read. */
  refusal: HeaderList
}

const writeHeaders = (res: HttpResponse, headers: HeaderList | undefined, unless?: Headers) => {
  if (headers === undefined) return
  for (const [name, value] of headers) {
    if (unless === undefined || !unless.has(name)) res.writeHeader(name, value)
  }
}

/** Runs `f`; an exception is reported and, when nothing was sent yet, answered 500. */
const guarded = (x: Exchange, f: () => void) => {
  try {
    f()
  } catch (error) {
    x.options.onDefect(error)
    if (!x.answered) return fail(x, 500, "InternalError", "the node failed to answer this request; it was logged")
    if (x.aborted) return
    try {
      // An answer had started: cut it short rather than leave it hanging.
      x.res.close()
    } catch (closeError) {
      x.options.onDefect(closeError)
    }
  }
}

/** Answers with a typed JSON error body (`{ _tag, message, ...extra }`) unless an answer has started. */
const fail = (x: Exchange, status: number, tag: string, message: string, extra: Record<string, unknown> = {}) => {
  if (x.aborted || x.answered) return
  x.answered = true
  try {
    x.res.cork(() => {
      x.res.writeStatus(statusLine(status))
      x.res.writeHeader("content-type", "application/json")
      writeHeaders(x.res, x.options.headers)
      writeHeaders(x.res, x.refusal)
      if (x.head) x.res.endWithoutBody()
      else x.res.end(JSON.stringify({ _tag: tag, message, ...extra }))
    })
  } catch (error) {
    x.options.onDefect(error)
  }
}

const pump = (x: Exchange): void => {
  x.reader!.read().then(({ done, value }) =>
    guarded(x, () => {
      if (x.aborted) return
      if (done) return void x.res.cork(() => x.res.end())
      let ok = true
      x.res.cork(() => {
        ok = x.res.write(value)
      })
      if (ok) return pump(x)
      x.res.onWritable(() => {
        guarded(x, () => pump(x))
        return true
      })
    }), (error) =>
    guarded(x, () => {
      if (x.aborted) return
      // The status line went out already: cut the response short rather than pretend it is complete.
      throw error
    }))
}

const respond = (x: Exchange, response: Response) => {
  if (x.aborted || x.answered) return void response.body?.cancel().catch(() => {})
  x.answered = true
  // HEAD: the GET's status and headers, never a body (a body would be read as the next response).
  if (x.head) void response.body?.cancel().catch(() => {})
  x.res.cork(() => {
    x.res.writeStatus(statusLine(response.status))
    response.headers.forEach((value, key) => {
      if (!skipHeaders.has(key)) x.res.writeHeader(key, value)
    })
    writeHeaders(x.res, x.options.headers, response.headers)
    // `end()` would claim Content-Length: 0. No reported length either: with one, this uWS leaves the connection
    // waiting for that many body bytes and never answers its next request (RFC 9110 lets HEAD leave it out).
    if (x.head) x.res.endWithoutBody()
    else if (response.body === null) x.res.end()
  })
  if (x.head || response.body === null) return
  x.reader = response.body.getReader()
  pump(x)
}

/** Reads what the web `Request` needs from `req`, which uWS invalidates when the route callback returns. */
const readRequest = (req: HttpRequest) => {
  const method = req.getMethod().toUpperCase()
  const query = req.getQuery()
  const url = `http://localhost${req.getUrl()}${query ? `?${query}` : ""}`
  const headers = new Headers()
  let badHeader = false
  let headerBytes = 0
  req.forEach((key, value) => {
    headerBytes += key.length + value.length
    try {
      headers.append(key, value)
    } catch {
      badHeader = true
    }
  })
  return { method, url, headers, badHeader, headerBytes }
}

/**
 * Gathers the body, at most `maxBodyBytes`. A larger body is read to its end
 * and dropped before the 413 goes out, up to `drainFactor` × the limit:
 * answering while the client still sends made uWS close a socket with unread
 * bytes, a TCP reset that destroyed the 413 before the client read it. A body
 * declared or sent beyond that is answered at once (and may be reset).
 */
const drainFactor = 4

/** Reads the rest of the body and drops it (up to `drainFactor` × the limit), then answers. */
const drainThen = (x: Exchange, declared: number, answer: () => void) => {
  const most = x.options.maxBodyBytes * drainFactor
  if (declared > most) return answer()
  let size = 0
  x.res.onData((chunk, isLast) =>
    guarded(x, () => {
      if (x.answered) return
      size += chunk.byteLength
      if (isLast || size > most) answer()
    }))
}

const gatherBody = (x: Exchange, declared: number, dispatch: (body: Uint8Array<ArrayBuffer>) => void) => {
  const max = x.options.maxBodyBytes
  const tooLarge = () => fail(x, 413, "PayloadTooLarge", `the request body is over ${max} bytes`, { maxBytes: max })
  if (declared > max * drainFactor) return tooLarge()
  const chunks: Array<Uint8Array> = []
  let size = 0
  x.res.onData((chunk, isLast) =>
    guarded(x, () => {
      if (x.answered) return
      size += chunk.byteLength
      if (size > max || declared > max) {
        chunks.length = 0
        if (isLast || size > max * drainFactor) tooLarge()
        return
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
    }))
}

export const bridge = (handler: WebHandler, options: BridgeOptions) => (res: HttpResponse, req: HttpRequest) => {
  const x: Exchange = {
    res,
    abort: new AbortController(),
    options,
    head: false,
    aborted: false,
    answered: false,
    reader: undefined,
    refusal: []
  }
  res.onAborted(() => {
    x.aborted = true
    try {
      x.abort.abort()
    } catch (error) {
      options.onDefect(error)
    }
    void x.reader?.cancel().catch(() => {})
  })
  guarded(x, () => {
    const { badHeader, headerBytes, headers, method, url } = readRequest(req)
    // The peer's address, for device records; a client's own header of this name is replaced.
    headers.set(PEER_ADDRESS_HEADER, Buffer.from(res.getRemoteAddressAsText()).toString())
    x.head = method === "HEAD"
    if (options.refusalHeaders !== undefined) x.refusal = options.refusalHeaders(headers)
    const declared = Number(headers.get("content-length") ?? "0")
    const declaredBytes = Number.isFinite(declared) ? declared : 0
    const maxHeaderBytes = options.maxHeaderBytes
    if (maxHeaderBytes !== undefined && headerBytes > maxHeaderBytes) {
      const refuse = () =>
        fail(x, 431, "HeadersTooLarge", `the request headers are over ${maxHeaderBytes} bytes`, { maxBytes: maxHeaderBytes })
      return method === "GET" || method === "HEAD" ? refuse() : drainThen(x, declaredBytes, refuse)
    }
    if (badHeader) {
      const refuse = () =>
        fail(x, 400, "InvalidRequest", "a request header has a name or value that is not valid (bytes outside visible Latin-1)")
      // Refused before its body was read: read it to the end first, as for a 413, so the answer is not reset.
      return method === "GET" || method === "HEAD" ? refuse() : drainThen(x, declaredBytes, refuse)
    }
    const dispatch = (body: Uint8Array<ArrayBuffer> | undefined) =>
      guarded(x, () => {
        let request: Request
        try {
          request = new Request(url, { method, headers, signal: x.abort.signal, ...(body === undefined ? {} : { body }) })
        } catch {
          return fail(x, 400, "InvalidRequest", `the request could not be read (method ${method.slice(0, 16)})`)
        }
        handler(request).then((response) => guarded(x, () => respond(x, response)), (error) => {
          options.onDefect(error)
          fail(x, 500, "InternalError", "the node failed to answer this request; it was logged")
        })
      })
    if (method === "GET" || method === "HEAD") return dispatch(undefined)
    gatherBody(x, declaredBytes, dispatch)
  })
}
