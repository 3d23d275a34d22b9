import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import type { ExecutionResult } from '../sandbox/types.js'
import { type GradingThreads, InvalidGradeRequest } from './grading.js'
import {
  NoSuchSession,
  type RunRequest,
  runRequest,
  type SandboxService,
  ServeError,
  TooManySessions,
} from './service.js'

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

/** Whether `host` (an address or a name to listen on) is this machine's loopback only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (bare === 'localhost') return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1'
}

/** The host part of a Host header (`name:port`, `[v6]:port`). */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]*)\]/.exec(header)
  return bracketed ? bracketed[1]! : header.replace(/:\d*$/, '')
}

export interface HttpGuard {
  /** With a token, every request needs `Authorization: Bearer <token>`. */
  token?: string
  /**
   * Listening on loopback only: then a request's Host must be a loopback name (a DNS-rebound name that
   * points at 127.0.0.1 is not). Listening beyond loopback needs a token, which a rebound page lacks.
   */
  loopbackOnly: boolean
}

const BODY_LIMIT = 16 * 1024 * 1024
const PYTHON = new Set(['python', 'python3'])
const POST_ROUTES = new Set(['/run_code', '/open_session', '/close_session', '/grade'])

/**
 * Why a request is refused before it is read, or undefined. Web pages are kept out three ways: a
 * browser's request carries an `Origin` (or a cross-site `Sec-Fetch-Site`), and none of this API's
 * clients (trainers, scripts) send one; a page's "simple" cross-origin POST cannot be `application/json`
 * without a preflight, which is never answered; and a DNS-rebound name fails the Host check.
 */
export function refusal(
  request: IncomingMessage,
  guard: HttpGuard,
): { status: number; message: string } | undefined {
  const { headers } = request
  if (guard.loopbackOnly && !(headers.host && isLoopback(hostName(headers.host)))) {
    return {
      status: 403,
      message: `Host ${JSON.stringify(headers.host ?? '')} is not this server's loopback name`,
    }
  }
  const site = headers['sec-fetch-site']
  if (headers.origin !== undefined || (site !== undefined && site !== 'none')) {
    return { status: 403, message: 'requests from web pages are refused' }
  }
  if (guard.token && !sameSecret(headers.authorization, `Bearer ${guard.token}`)) {
    return { status: 401, message: 'missing or wrong bearer token' }
  }
  if (request.method === 'POST') {
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') {
      return { status: 415, message: `content-type must be application/json, not ${JSON.stringify(type)}` }
    }
  }
  return undefined
}

/** Compares in time that does not depend on where the two differ. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '')
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * SandboxFusion's HTTP API, so tools that call it (verl's sandbox_fusion tool, ReTool recipes) use this
 * sandbox unchanged: POST /run_code {code, language, run_timeout (s), stdin} and GET /health, /v1/ping;
 * sessions (our extension): POST /open_session -> {session}, then `session` in /run_code, and POST
 * /close_session {session}; and POST /grade, start grade's rules for one record, for reward functions
 * (the verl export's), graded on a thread of its own.
 */
export function sandboxHttpServer(
  service: SandboxService,
  grading: GradingThreads,
  guard: HttpGuard,
): Server {
  return createServer((request, response) => {
    void route(service, grading, guard, request, response).catch((error: Error) => {
      refuse(response, 500, error.message)
    })
  })
}

async function route(
  service: SandboxService,
  grading: GradingThreads,
  guard: HttpGuard,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const refused = refusal(request, guard)
  if (refused) {
    request.resume() // the body is not read, but the connection must not stall on it
    return refuse(response, refused.status, refused.message)
  }
  const path = (request.url ?? '/').split('?')[0] ?? '/'
  if (request.method === 'GET' && path === '/health') {
    return send(response, 200, {
      status: 'ok',
      sessions: service.openSessions,
      running: service.running,
      executed: service.executed,
    })
  }
  if (request.method === 'GET' && path === '/v1/ping') return send(response, 200, 'pong')
  if (request.method !== 'POST' || !POST_ROUTES.has(path)) {
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
  try {
    return send(response, 200, await answer(service, grading, path, body))
  } catch (error) {
    if (error instanceof NoSuchSession) return refuse(response, 404, error.message)
    if (error instanceof InvalidGradeRequest || error instanceof BadRequest)
      return refuse(response, 400, error.message)
    if (error instanceof TooManySessions) return refuse(response, 429, error.message)
    if (error instanceof ServeError) return refuse(response, 503, error.message)
    throw error
  }
}

class BadRequest extends ServeError {}

async function answer(
  service: SandboxService,
  grading: GradingThreads,
  path: string,
  body: Record<string, unknown>,
) {
  switch (path) {
    case '/grade':
      // start grade's rules for one record: {completion (or text), answer | tests [+ entry_point, problem],
      // finish_reason?, prompt?, segments?, problem?} -> {correct, predicted, reason?}.
      return grading.grade(body)
    case '/open_session':
      return { status: 'Success', session: service.openSession() }
    case '/close_session':
      if (typeof body.session !== 'string') throw new BadRequest('"session" must be a string')
      if (!(await service.closeSession(body.session))) throw new NoSuchSession()
      return { status: 'Success', closed: true }
    default:
      return sandboxFusionResponse(await service.run(runCodeRequest(body)))
  }
}

/** A /run_code body as a run request; what this sandbox does not do is refused, never ignored. */
function runCodeRequest(body: Record<string, unknown>): RunRequest {
  const language = body.language ?? 'python'
  if (typeof language !== 'string' || !PYTHON.has(language)) {
    throw new BadRequest(`language ${JSON.stringify(language)} is not supported (python only)`)
  }
  if (Array.isArray(body.fetch_files) && body.fetch_files.length > 0)
    throw new BadRequest('"fetch_files" is not supported')
  if (body.files && typeof body.files === 'object' && Object.keys(body.files).length > 0) {
    throw new BadRequest('"files" is not supported')
  }
  const memory = body.memory_limit_MB
  if (memory !== undefined && memory !== null && !(typeof memory === 'number' && Number.isFinite(memory))) {
    throw new BadRequest('"memory_limit_MB" must be a number')
  }
  try {
    return runRequest(body, 'run_timeout', 1000)
  } catch (error) {
    throw new BadRequest((error as Error).message)
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
