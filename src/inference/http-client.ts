/**
 * JSON over HTTP to a serving engine, with the retries a long sampling run needs: 429, 5xx, a reset
 * or refused connection and a request past its timeout are tried again with exponential backoff
 * (`Retry-After` honoured); anything else fails at once with the server's own message.
 */

export interface HttpClientOptions {
  baseUrl: string
  /** Sent as a bearer token; never logged or stored. */
  apiKey?: string
  /** Per request, ms. */
  timeoutMs: number
  /** Tries after the first. */
  retries: number
  /** First backoff, ms; doubled per try, at most `maxBackoffMs`. */
  backoffMs?: number
  maxBackoffMs?: number
  /** Called before each retry: for a progress line. */
  onRetry?: (notice: string) => void
}

/** A request that failed for good: the message is the one line the user sees. */
export class ServerError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message)
    this.name = 'ServerError'
  }
}

const RETRIED_STATUS = new Set([408, 429, 500, 502, 503, 504])
/** Retry-After beyond this is a server asking for a pause longer than a run should sleep unseen. */
const MAX_RETRY_AFTER_MS = 300_000

export class HttpClient {
  private readonly headers: Record<string, string>

  constructor(private readonly options: HttpClientOptions) {
    this.headers = { 'content-type': 'application/json' }
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`
  }

  get baseUrl(): string {
    return this.options.baseUrl
  }

  /** POST with retries; the parsed JSON body of a 2xx answer. */
  post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, JSON.stringify(body))
  }

  /** GET once, no retries: for probing what the server is. Undefined when it is not a 2xx JSON answer. */
  async probe(path: string): Promise<unknown> {
    try {
      const response = await fetch(this.url(path), {
        headers: this.headers,
        signal: AbortSignal.timeout(Math.min(this.options.timeoutMs, 30_000)),
      })
      if (!response.ok) return undefined
      return await response.json()
    } catch {
      return undefined
    }
  }

  /** GET with retries. */
  get(path: string): Promise<unknown> {
    return this.request('GET', path)
  }

  private url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}${path}`
  }

  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
    const { retries, backoffMs = 500, maxBackoffMs = 30_000 } = this.options
    const where = `${method} ${this.url(path)}`
    for (let attempt = 0; ; attempt++) {
      let failure: { why: string; retryAfterMs?: number; status?: number }
      try {
        const response = await fetch(this.url(path), {
          method,
          headers: this.headers,
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        })
        const text = await response.text()
        if (response.ok) {
          try {
            return JSON.parse(text)
          } catch {
            throw new ServerError(`${where}: the answer is not JSON (${snippet(text)})`, response.status)
          }
        }
        failure = {
          why: `HTTP ${response.status} ${serverMessage(text)}`,
          status: response.status,
          retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        }
        if (!RETRIED_STATUS.has(response.status))
          throw new ServerError(`${where}: ${failure.why}`, response.status)
      } catch (error) {
        if (error instanceof ServerError) throw error
        failure = { why: networkFailure(error, this.options.timeoutMs) }
      }
      if (attempt >= retries) {
        const tries = attempt + 1
        throw new ServerError(
          `${where}: ${failure.why} (${tries} ${tries === 1 ? 'try' : 'tries'})`,
          failure.status,
        )
      }
      const backoff = Math.min(maxBackoffMs, backoffMs * 2 ** attempt)
      const wait = Math.min(failure.retryAfterMs ?? backoff * (0.5 + Math.random() / 2), MAX_RETRY_AFTER_MS)
      this.options.onRetry?.(
        `${where}: ${failure.why}; try ${attempt + 2} of ${retries + 1} in ${(wait / 1000).toFixed(1)} s`,
      )
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  const trimmed = header.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** What went wrong below HTTP, in words: undici hides the system error in `cause`. */
function networkFailure(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } }
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return `no answer within ${timeoutMs / 1000} s`
  const code = err.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed by the server'
  if (code === 'ENOTFOUND') return 'unknown host'
  return err.cause?.message ?? err.message
}

/** The error text of an OpenAI-style or llama-server error body, else the start of the body. */
function serverMessage(text: string): string {
  try {
    const json = JSON.parse(text) as {
      error?: { message?: string } | string
      message?: string
      detail?: unknown
    }
    const message =
      typeof json.error === 'string' ? json.error : (json.error?.message ?? json.message ?? json.detail)
    if (message) return `(${snippet(String(message))})`
  } catch {}
  return text ? `(${snippet(text)})` : ''
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 197)}...` : line
}
