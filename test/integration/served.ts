import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { ensureLlamaServer, type RunningServer, startServer } from '../../src/llama-server/runner.js'
import { tempDir } from './cli.js'

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise((done) => server.close(done))
  return port
}

/** The real llama-server (built by `start setup --server`) on the testbed model. */
export async function llamaServer(
  model: string,
  options: { parallel: number; port?: number },
): Promise<RunningServer> {
  const { binary } = await ensureLlamaServer()
  const port = options.port ?? (await freePort())
  return startServer(
    binary,
    {
      model,
      host: '127.0.0.1',
      port,
      parallel: options.parallel,
      ctxSize: 1024 * options.parallel,
      threads: 1,
    },
    join(tempDir(), 'llama-server.log'),
  )
}

export async function stopServer(server: RunningServer): Promise<void> {
  server.process.kill('SIGKILL')
  await server.exited
}

/** What the proxy does with one request: pass it on, or fail it as a broken server would. */
export type Fault = 'pass' | 'http-500' | 'close' | 'hang'

export interface ProxiedCompletion {
  prompt: string
  authorization?: string
  response: {
    content: string
    stopping_word: string
    tokens_evaluated: number
    tokens_cached: number
    timings: { prompt_n: number; cache_n: number }
  }
}

/**
 * A proxy in front of a real server that injects faults into chosen /completion requests (numbered
 * from 1) and records every completion that went through.
 */
export async function faultProxy(
  target: string,
  faultFor: (completion: number) => Fault,
): Promise<{ url: string; completions: ProxiedCompletion[]; faults: Fault[]; close: () => Promise<void> }> {
  const completions: ProxiedCompletion[] = []
  const faults: Fault[] = []
  let count = 0
  const server: Server = createHttpServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', async () => {
      const isCompletion = request.url === '/completion'
      const fault = isCompletion ? faultFor(++count) : 'pass'
      if (fault !== 'pass') faults.push(fault)
      if (fault === 'close') return request.socket.destroy()
      if (fault === 'hang') return
      if (fault === 'http-500') {
        response.writeHead(500, { 'content-type': 'application/json' })
        return response.end('{"error":{"code":500,"message":"injected failure"}}')
      }
      try {
        const upstream = await fetch(`${target}${request.url}`, {
          method: request.method,
          headers: { 'content-type': 'application/json' },
          body: request.method === 'POST' ? body : undefined,
        })
        const text = await upstream.text()
        if (isCompletion && upstream.ok)
          completions.push({
            prompt: JSON.parse(body).prompt,
            authorization: request.headers.authorization,
            response: JSON.parse(text),
          })
        response.writeHead(upstream.status, { 'content-type': 'application/json' })
        response.end(text)
      } catch {
        request.socket.destroy()
      }
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    completions,
    faults,
    close: async () => {
      server.closeAllConnections()
      await new Promise((done) => server.close(done))
    },
  }
}
