import { randomBytes } from 'node:crypto'
import { type SandboxOptions, SandboxPool, type SandboxSession } from '../sandbox/pool.js'
import type { ExecutionResult } from '../sandbox/types.js'

/** How `start sandbox serve` runs: `SANDBOX_SERVE_OPTIONS` states the defaults. */
export interface ServeOptions {
  sandbox: SandboxOptions
  /** Sessions open at once (each holds a worker); more are refused. */
  maxSessions: number
  /** A session unused this long is closed, ms. */
  sessionIdleMs: number
}

/** One execution request, whichever protocol brought it. */
export interface RunRequest {
  code: string
  /** Cells with the same session id share a namespace and scratch, in order, like notebook cells. */
  session?: string
  /** The client's wall-clock limit, ms: never more than the server's. */
  timeoutMs?: number
  stdin?: string
  echo?: boolean
}

/** A request the service will not run (the client's to fix, or too many sessions). */
export class ServeError extends Error {}
/** A session id that names no session this client may use: the same answer whether it never existed,
 * was closed, or is someone else's. */
export class NoSuchSession extends ServeError {
  constructor() {
    super('no such session')
  }
}

/** Every session this server may hold is open: the client may retry once one closes. */
export class TooManySessions extends ServeError {}

/** Random bits in an issued session id: a capability, not a name (at least 128, as the issue asks). */
const SESSION_ID_BYTES = 32

/**
 * The sandbox as a long-lived service: a warm pool for stateless cells, and sessions that close when
 * told or when idle. Every cell runs with the pool's isolation and the server's limits, whatever the
 * client asks for.
 *
 * Sessions come two ways: issued (`openSession`, HTTP: the id is an unguessable capability, and a
 * request naming any other id is refused as if it did not exist), or named by the client and opened on
 * first use (`run(request, { openNamed: true })`, the stdio protocol, whose one client is the process
 * at the other end of the pipe).
 */
export class SandboxService {
  readonly pool: SandboxPool
  /** Open sessions by id; the promise is stored at once, so requests right behind the first share it. */
  private readonly sessions = new Map<string, { session: Promise<SandboxSession>; used: number }>()
  private readonly reaper: NodeJS.Timeout
  /** Cells run so far, and cells running now. */
  executed = 0
  running = 0

  constructor(private readonly options: ServeOptions) {
    this.pool = new SandboxPool(options.sandbox)
    this.reaper = setInterval(() => this.closeIdle(), Math.min(options.sessionIdleMs, 10_000))
    this.reaper.unref()
  }

  /** The server's own wall-clock limit per cell, ms: no request gets more. */
  get timeoutMs(): number {
    return this.pool.limits.timeoutMs
  }

  async run(request: RunRequest, { openNamed = false } = {}): Promise<ExecutionResult> {
    const session =
      request.session === undefined
        ? undefined
        : openNamed
          ? this.namedSession(request.session)
          : this.issuedSession(request.session)
    this.running++
    try {
      const timeoutMs = Math.min(request.timeoutMs ?? this.timeoutMs, this.timeoutMs)
      const options = { timeoutMs, stdin: request.stdin, echo: request.echo }
      const result = session
        ? await (await session).execute(request.code, options)
        : await this.pool.execute(request.code, options)
      this.executed++
      return result
    } finally {
      this.running--
    }
  }

  /** A new session; its id is the capability to use and close it. */
  openSession(): string {
    const id = randomBytes(SESSION_ID_BYTES).toString('base64url')
    this.register(id)
    return id
  }

  /** Closes a session after the cells sent to it before; false when there was none. */
  async closeSession(id: string): Promise<boolean> {
    const open = this.sessions.get(id)
    if (!open) return false
    this.sessions.delete(id)
    await (await open.session).close()
    return true
  }

  get openSessions(): number {
    return this.sessions.size
  }

  async close(): Promise<void> {
    clearInterval(this.reaper)
    await Promise.all([...this.sessions.keys()].map((id) => this.closeSession(id)))
    await this.pool.close()
  }

  private issuedSession(id: string): Promise<SandboxSession> {
    const open = this.sessions.get(id)
    if (!open) throw new NoSuchSession()
    open.used = Date.now()
    return open.session
  }

  /** The session `id`, opened on first use (synchronously registered: call order is cell order). */
  private namedSession(id: string): Promise<SandboxSession> {
    const open = this.sessions.get(id)
    if (open) {
      open.used = Date.now()
      return open.session
    }
    return this.register(id)
  }

  private register(id: string): Promise<SandboxSession> {
    if (this.sessions.size >= this.options.maxSessions) {
      throw new TooManySessions(`too many open sessions (${this.options.maxSessions}); close one first`)
    }
    const session = this.pool.openSession()
    this.sessions.set(id, { session, used: Date.now() })
    session.catch(() => this.sessions.delete(id))
    return session
  }

  private closeIdle(): void {
    const deadline = Date.now() - this.options.sessionIdleMs
    for (const [id, open] of this.sessions) if (open.used < deadline) void this.closeSession(id)
  }
}

/**
 * A request's fields, checked; `timeoutField` in `scale` ms (SandboxFusion: seconds). A time limit must
 * be a positive finite number; the service clamps it to its own.
 */
export function runRequest(body: Record<string, unknown>, timeoutField: string, scale: number): RunRequest {
  const { code, session, stdin, echo } = body
  const timeout = body[timeoutField]
  if (typeof code !== 'string') throw new ServeError('"code" must be a string')
  if (session !== undefined && (typeof session !== 'string' || !session)) {
    throw new ServeError('"session" must be a non-empty string')
  }
  if (
    timeout !== undefined &&
    timeout !== null &&
    !(typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout))
  ) {
    throw new ServeError(`"${timeoutField}" must be a positive number`)
  }
  if (stdin !== undefined && stdin !== null && typeof stdin !== 'string')
    throw new ServeError('"stdin" must be a string')
  return {
    code,
    session: session as string | undefined,
    timeoutMs: typeof timeout === 'number' ? Math.ceil(timeout * scale) : undefined,
    stdin: (stdin as string | null | undefined) || undefined,
    echo: echo === true,
  }
}
