import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { startHome } from '../../src/core/start-home.js'
import { CLI } from './cli.js'
import { freePort } from './served.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')

describe('start server', () => {
  it('serves the testbed model: prints its URL when healthy, completes, reuses the prompt cache, says how to use it, stops on SIGTERM', async () => {
    const port = await freePort()
    const server = execa(
      'node',
      [CLI, 'server', '--model', MODEL, '--port', String(port), '--parallel', '2', '--threads', '1'],
      {
        reject: false,
      },
    )
    try {
      const url = await new Promise<string>((resolveUrl, fail) => {
        server.stdout!.on('data', (chunk: Buffer) => {
          const line = chunk.toString().trim().split('\n')[0]!
          if (line.startsWith('http://')) resolveUrl(line)
        })
        void server.then((result) => fail(new Error(`start server ended: ${result.stderr}`)))
      })
      expect(url).toBe(`http://127.0.0.1:${port}`)
      expect((await fetch(`${url}/health`)).status).toBe(200)
      const body = { prompt: 'What is 17 * 23?', n_predict: 12, temperature: 0, cache_prompt: true }
      const complete = async () =>
        (await (await fetch(`${url}/completion`, { method: 'POST', body: JSON.stringify(body) })).json()) as {
          content: string
          timings: { cache_n: number; prompt_n: number }
        }
      const first = await complete()
      expect(first.content.length).toBeGreaterThan(0)
      const again = await complete()
      // the same prompt again: all but the last prompt token come from the server's prefix cache
      expect(again.content).toBe(first.content)
      expect(again.timings.cache_n).toBeGreaterThan(0)
      expect(again.timings.prompt_n).toBeLessThanOrEqual(1)
    } finally {
      server.kill('SIGTERM')
    }
    const result = await server
    expect(result.signal ?? null).toBeNull()
    expect(result.exitCode).toBe(0)
    // how to point hint-infer at it: twice its 2 slots in flight
    expect(result.stderr).toContain(`--backend openai --base-url http://127.0.0.1:${port} --concurrency 4`)
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow()
    // the log it names holds the server's own output, its timings of the requests above included;
    // removed, so that test runs leave nothing in the start home
    const log = /\(log: ([^)]+)\)/.exec(result.stderr)?.[1]
    expect(log).toMatch(new RegExp(`llama-server-${port}\\.log$`))
    try {
      expect(readFileSync(log!, 'utf8')).toContain('prompt eval time')
    } finally {
      rmSync(log!, { force: true })
    }
  }, 900_000)

  it('killed with SIGKILL (no handler runs), leaves no llama-server behind: the port is free again', async () => {
    const port = await freePort()
    const server = execa(
      'node',
      [CLI, 'server', '--model', MODEL, '--port', String(port), '--threads', '1'],
      {
        reject: false,
      },
    )
    await new Promise<void>((ready, fail) => {
      server.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().startsWith('http://')) ready()
      })
      void server.then((result) => fail(new Error(`start server ended: ${result.stderr}`)))
    })
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    server.kill('SIGKILL')
    expect((await server).signal).toBe('SIGKILL')
    // the kernel sends llama-server its parent-death signal: within seconds nothing answers on the port
    const deadline = Date.now() + 10_000
    let answered = true
    while (answered && Date.now() < deadline) {
      answered = await fetch(`http://127.0.0.1:${port}/health`).then(
        () => true,
        () => false,
      )
      if (answered) await new Promise((done) => setTimeout(done, 200))
    }
    expect(answered).toBe(false)
    rmSync(join(startHome(), `llama-server-${port}.log`), { force: true })
  }, 300_000)

  it('refuses a port another process answers /health on: exit 2 naming the flag, no URL printed', async () => {
    const port = await freePort()
    // another server that says it is healthy, as a stale llama-server or any web server would
    const other = createServer((_, response) => response.end('{"status":"ok"}'))
    await new Promise<void>((listening) => other.listen(port, '127.0.0.1', listening))
    try {
      const result = await execa('node', [CLI, 'server', '--model', MODEL, '--port', String(port)], {
        reject: false,
      })
      expect(result.exitCode).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain(`--port ${port}: another process listens on 127.0.0.1:${port}`)
    } finally {
      await new Promise((closed) => other.close(closed))
    }
  }, 120_000)
})
