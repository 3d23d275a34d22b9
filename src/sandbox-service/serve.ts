import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { Grader } from '../grading/grader.js'
import { completionOf, contextOf, parseReference } from '../grading/reference.js'
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
  timeoutMs?: number
  stdin?: string
  echo?: boolean
}

export class ServeError extends Error {}

/**
 * The sandbox as a long-lived service: a warm pool for stateless cells, and named sessions that close
 * when told or when idle. Every cell runs with the pool's isolation and limits.
 */
export class SandboxService {
  readonly pool: SandboxPool
  /** Grades in this process: the answer's code never sees how it is graded. */
  readonly grader: Grader
  /** Open sessions by id; the promise is stored at once, so requests right behind the first share it. */
  private readonly sessions = new Map<string, { session: Promise<SandboxSession>; used: number }>()
  private readonly reaper: NodeJS.Timeout
  /** Cells run so far, and cells running now. */
  executed = 0
  running = 0

  constructor(private readonly options: ServeOptions) {
    this.pool = new SandboxPool(options.sandbox)
    this.grader = new Grader(this.pool)
    this.reaper = setInterval(() => this.closeIdle(), Math.min(options.sessionIdleMs, 10_000))
    this.reaper.unref()
  }

  async run(request: RunRequest): Promise<ExecutionResult> {
    this.running++
    try {
      const options = { timeoutMs: request.timeoutMs, stdin: request.stdin, echo: request.echo }
      const session = request.session === undefined ? undefined : this.session(request.session)
      const result = session
        ? await (await session).execute(request.code, options)
        : await this.pool.execute(request.code, options)
      this.executed++
      return result
    } finally {
      this.running--
    }
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

  /** The session `id`, opened on first use (synchronously registered: call order is cell order). */
  private session(id: string): Promise<SandboxSession> {
    const open = this.sessions.get(id)
    if (open) {
      open.used = Date.now()
      return open.session
    }
    if (this.sessions.size >= this.options.maxSessions) {
      throw new ServeError(`too many open sessions (${this.options.maxSessions}); close one first`)
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

// ---------------------------------------------------------------- JSON lines over stdio

/**
 * `--stdio`: one JSON request per line, one answer per line as each finishes (not in order; `id` pairs them).
 *   {"id": 1, "code": "print(1)", "session": "t1", "timeout": 5000, "stdin": "", "echo": false}
 *   {"id": 2, "close": "t1"}
 * Answers: {"id", "result": ExecutionResult} | {"id", "closed": bool} | {"id", "error": "..."}.
 */
export async function serveStdio(
  service: SandboxService,
  input: Readable,
  output: Writable,
): Promise<number> {
  const pending = new Set<Promise<void>>()
  let answered = 0
  let first = true
  for await (const read of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    // A UTF-8 byte-order mark before the first line is not part of the request, as in every JSONL input.
    const line = first && read.startsWith('\uFEFF') ? read.slice(1) : read
    first = false
    if (!line.trim()) continue
    const task = answerLine(service, line).then((answer) => {
      output.write(`${JSON.stringify(answer)}\n`)
      answered++
    })
    pending.add(task)
    void task.finally(() => pending.delete(task))
  }
  await Promise.all(pending)
  return answered
}

async function answerLine(service: SandboxService, line: string): Promise<Record<string, unknown>> {
  let id: unknown = null
  try {
    const request = JSON.parse(line) as Record<string, unknown>
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new ServeError('expected a JSON object')
    }
    id = request.id ?? null
    if (request.close !== undefined) {
      if (typeof request.close !== 'string') throw new ServeError('"close" must be a session id')
      return { id, closed: await service.closeSession(request.close) }
    }
    return { id, result: await service.run(runRequest(request, 'timeout', 1)) }
  } catch (error) {
    const message = error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message
    return { id, error: message }
  }
}

/** A request's fields, checked; `timeoutField` in `scale` ms (SandboxFusion: seconds). */
function runRequest(body: Record<string, unknown>, timeoutField: string, scale: number): RunRequest {
  const { code, session, stdin, echo } = body
  const timeout = body[timeoutField]
  if (typeof code !== 'string') throw new ServeError('"code" must be a string')
  if (session !== undefined && (typeof session !== 'string' || !session)) {
    throw new ServeError('"session" must be a non-empty string')
  }
  if (timeout !== undefined && timeout !== null && !(typeof timeout === 'number' && timeout > 0)) {
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

// ---------------------------------------------------------------- HTTP, SandboxFusion's API

/** SandboxFusion's `/run_code` answer for an execution (its `RunCodeResponse`). */
export function sandboxFusionResponse(result: ExecutionResult) {
  const status = result.timedOut ? 'TimeLimitExceeded' : result.exitCode === null ? 'Error' : 'Finished'
  return {
    status: result.exitCode === 0 && !result.timedOut ? 'Success' : 'Failed',
    message: '',
    compile_result: null,
    run_result: {
      status,
      execution_time: result.durationMs / 1000,
      return_code: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
    },
    executor_pod_name: null,
    files: {},
  }
}

const BODY_LIMIT = 16 * 1024 * 1024
const PYTHON = new Set(['python', 'python3'])

/**
 * `--port`: SandboxFusion's HTTP API, so tools that call it (verl's sandbox_fusion tool, ReTool recipes)
 * use this sandbox unchanged: POST /run_code {code, language, run_timeout (s), stdin} (plus `session`, our
 * extension), POST /close_session {session}, GET /health and GET /v1/ping; and POST /grade, start grade's
 * rules for one record, for reward functions (the verl export's). With a token, every request
 * needs `Authorization: Bearer <token>`.
 */
export function sandboxHttpServer(service: SandboxService, options: { token?: string } = {}): Server {
  return createServer((request, response) => {
    void route(service, options.token, request, response).catch((error: Error) => {
      refuse(response, 500, error.message)
    })
  })
}

async function route(
  service: SandboxService,
  token: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const path = (request.url ?? '/').split('?')[0]
  if (token && request.headers.authorization !== `Bearer ${token}`) {
    return refuse(response, 401, 'missing or wrong bearer token')
  }
  if (request.method === 'GET' && path === '/health') {
    return send(response, 200, {
      status: 'ok',
      sessions: service.openSessions,
      running: service.running,
      executed: service.executed,
    })
  }
  if (request.method === 'GET' && path === '/v1/ping') return send(response, 200, 'pong')
  if (request.method !== 'POST' || !['/run_code', '/close_session', '/grade'].includes(path ?? '')) {
    return refuse(response, 404, `no route ${request.method} ${path}`)
  }
  let body: Record<string, unknown>
  try {
    body = JSON.parse(await readBody(request)) as Record<string, unknown>
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ServeError('expected a JSON object')
  } catch (error) {
    return refuse(response, 400, `bad request body: ${(error as Error).message}`)
  }
  if (path === '/grade') {
    // start grade's rules for one record: {completion (or text), answer | tests [+ entry_point, problem],
    // finish_reason?, prompt?, segments?, problem?} -> {correct, predicted, reason?}. For reward functions
    // of other trainers.
    const completion = completionOf(body)
    const parsed = parseReference(body)
    if (completion === undefined || 'error' in parsed) {
      const message =
        completion === undefined ? 'missing "completion" (or "text")' : (parsed as { error: string }).error
      return refuse(response, 400, message)
    }
    return send(response, 200, await service.grader.grade(completion, parsed.reference, contextOf(body)))
  }
  if (path === '/close_session') {
    if (typeof body.session !== 'string') return refuse(response, 400, '"session" must be a string')
    return send(response, 200, { status: 'Success', closed: await service.closeSession(body.session) })
  }
  const language = body.language ?? 'python'
  if (typeof language !== 'string' || !PYTHON.has(language)) {
    return refuse(response, 400, `language ${JSON.stringify(language)} is not supported (python only)`)
  }
  if (Array.isArray(body.fetch_files) && body.fetch_files.length > 0) {
    return refuse(response, 400, '"fetch_files" is not supported')
  }
  if (body.files && typeof body.files === 'object' && Object.keys(body.files).length > 0) {
    return refuse(response, 400, '"files" is not supported')
  }
  let run: RunRequest
  try {
    run = runRequest(body, 'run_timeout', 1000)
  } catch (error) {
    return refuse(response, 400, (error as Error).message)
  }
  try {
    return send(response, 200, sandboxFusionResponse(await service.run(run)))
  } catch (error) {
    if (error instanceof ServeError) return refuse(response, 429, error.message)
    throw error
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > BODY_LIMIT) {
        reject(new ServeError(`larger than ${BODY_LIMIT} bytes`))
        request.destroy()
      } else chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/** A request the sandbox will not run, answered as SandboxFusion answers one. */
function refuse(response: ServerResponse, status: number, message: string): void {
  send(response, status, { status: 'SandboxError', message })
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' })
  response.end(text)
}
