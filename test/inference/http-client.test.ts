import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpClient, retryAfterMs, ServerError } from '../../src/inference/http-client.js'

/** A local HTTP endpoint whose answers the test scripts, one handler per request in turn. */
type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void
const servers: Server[] = []

async function endpoint(
  handlers: Handler[],
): Promise<{ url: string; requests: { body: string; auth?: string }[] }> {
  const requests: { body: string; auth?: string }[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      requests.push({ body, auth: request.headers.authorization })
      const handler = handlers[Math.min(requests.length - 1, handlers.length - 1)]!
      handler(request, response, body)
    })
  })
  servers.push(server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((done) => server.close(done))
  }
})

const ok: Handler = (_, response, body) => {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(JSON.stringify({ echoed: JSON.parse(body || '{}') }))
}
const status =
  (code: number, headers: Record<string, string> = {}, body = '{"error":{"message":"busy"}}'): Handler =>
  (_, response) => {
    response.writeHead(code, { 'content-type': 'application/json', ...headers })
    response.end(body)
  }
const hangUp: Handler = (request) => request.socket.destroy()
const hang: Handler = () => {}

const client = (url: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({ baseUrl: url, timeoutMs: 2000, retries: 3, backoffMs: 10, ...extra })

describe('HttpClient', () => {
  it('retries 5xx, 429 and dropped connections, then returns the answer; the same body each time', async () => {
    const { url, requests } = await endpoint([status(503), status(429), hangUp, ok])
    const notices: string[] = []
    const answer = await client(url, { onRetry: (line) => notices.push(line) }).post('/completion', { n: 1 })
    expect(answer).toEqual({ echoed: { n: 1 } })
    expect(requests).toHaveLength(4)
    expect(new Set(requests.map((r) => r.body)).size).toBe(1)
    expect(notices).toHaveLength(3)
    expect(notices[0]).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/completion: HTTP 503 \(busy\); try 2 of 4/)
    expect(notices[2]).toMatch(/connection closed by the server/)
  })

  it('honours Retry-After', async () => {
    const { url } = await endpoint([status(429, { 'retry-after': '1' }), ok])
    const started = Date.now()
    await client(url).post('/x', {})
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('a request with no answer within the timeout is tried again', async () => {
    const { url, requests } = await endpoint([hang, ok])
    expect(await client(url, { timeoutMs: 300 }).post('/x', { a: 1 })).toEqual({ echoed: { a: 1 } })
    expect(requests).toHaveLength(2)
  })

  it('gives up after the retries with one line naming the request, the failure and the tries', async () => {
    const { url, requests } = await endpoint([status(500, {}, 'boom')])
    const error = await client(url, { retries: 2 })
      .post('/completion', {})
      .then(
        () => expect.unreachable(),
        (e: ServerError) => e,
      )
    expect(error).toBeInstanceOf(ServerError)
    expect(error.message).toBe(`POST ${url}/completion: HTTP 500 (boom) (3 tries)`)
    expect(error.status).toBe(500)
    expect(requests).toHaveLength(3)
  })

  it('does not retry what a retry cannot fix (400), and says what the server said', async () => {
    const { url, requests } = await endpoint([
      status(400, {}, '{"error":{"message":"the request exceeds the available context size"}}'),
    ])
    await expect(client(url).post('/completion', {})).rejects.toThrow(
      /HTTP 400 \(the request exceeds the available context size\)$/,
    )
    expect(requests).toHaveLength(1)
  })

  it('a server that is not there: connection refused, after the retries', async () => {
    const { url } = await endpoint([ok])
    for (const server of servers.splice(0)) await new Promise((done) => server.close(done))
    await expect(client(url, { retries: 1 }).get('/v1/models')).rejects.toThrow(
      `GET ${url}/v1/models: connection refused (2 tries)`,
    )
  })

  it('sends the key as a bearer token and never puts it in a message', async () => {
    const { url, requests } = await endpoint([status(401, {}, 'bad key')])
    const error = await client(url, { apiKey: 'sk-secret-123' })
      .post('/x', {})
      .then(
        () => expect.unreachable(),
        (e: ServerError) => e,
      )
    expect(requests[0]!.auth).toBe('Bearer sk-secret-123')
    expect(error.message).not.toContain('sk-secret-123')
  })

  it('probes answer undefined for anything but 2xx JSON, without retrying', async () => {
    const { url, requests } = await endpoint([status(404), ok])
    expect(await client(url).probe('/props')).toBeUndefined()
    expect(await client(url).probe('/version')).toEqual({ echoed: {} })
    expect(requests).toHaveLength(2)
  })
})

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates; anything else is no header', () => {
    expect(retryAfterMs('2')).toBe(2000)
    expect(retryAfterMs('0.5')).toBe(500)
    const now = Date.parse('2026-11-30T12:00:00Z')
    expect(retryAfterMs('Mon, 30 Nov 2026 12:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(null)).toBeUndefined()
  })
})
