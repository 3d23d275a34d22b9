/**
 * `start sandbox serve` against the sandbox in process: latency and throughput per cell through the
 * HTTP API (SandboxFusion's /run_code, a separate process, keep-alive) and through --stdio JSON lines,
 * against SandboxPool.execute in this process, at 1, 8 and 64 concurrent clients (up to 4 workers), in
 * the same run on the same machine. Then what the service's own checks on each HTTP request (Host,
 * Origin, token, content type) cost, against a cell's HTTP latency measured above.
 *
 *   npm run bench:sandbox-serve [-- --iterations 300]
 */

import type { IncomingMessage } from 'node:http'
import { cpus } from 'node:os'
import { createInterface } from 'node:readline'
import { execa } from 'execa'
import { SandboxPool } from '../src/sandbox/pool.js'
import { refusal } from '../src/sandbox-service/http.js'
import { argument } from './arguments.js'
import { type Measure, measure } from './measure.js'

const CLI = 'bin/run.js'
const CODE = 'print(1+1)'
const iterations = Number(argument('iterations', '300'))

async function httpServer(concurrency: number) {
  const child = execa(
    'node',
    [CLI, 'sandbox', 'serve', '--port', '0', '--concurrency', String(concurrency)],
    {
      reject: false,
    },
  )
  const url = await new Promise<string>((resolve) => {
    let seen = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(seen)
      if (found) resolve(found[1]!)
    })
  })
  return { child, url }
}

async function stdioServer(concurrency: number) {
  const child = execa('node', [CLI, 'sandbox', 'serve', '--stdio', '--concurrency', String(concurrency)], {
    reject: false,
  })
  const waiting = new Map<number, () => void>()
  void (async () => {
    for await (const line of createInterface({ input: child.stdout! })) {
      const { id } = JSON.parse(line) as { id: number }
      waiting.get(id)?.()
      waiting.delete(id)
    }
  })()
  let next = 0
  const run = () =>
    new Promise<void>((resolve) => {
      const id = next++
      waiting.set(id, resolve)
      child.stdin!.write(`${JSON.stringify({ id, code: CODE })}\n`)
    })
  await run() // started and warm
  return { child, run }
}

const JSON_POST = { method: 'POST', headers: { 'content-type': 'application/json' } }
const CLIENTS = [1, 8, 64]

const row = (name: string, concurrency: number, m: Measure, base: Measure) =>
  `| ${name} | ${concurrency} | ${m.perSecond.toFixed(0)}/s, ${m.p50.toFixed(1)} ms, ${m.p99.toFixed(1)} ms | ` +
  `${(m.perSecond / base.perSecond).toFixed(2)}x | ${m.p50 >= base.p50 ? '+' : ''}${(m.p50 - base.p50).toFixed(1)} ms |`

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; ${iterations} cells of ${CODE} each`,
)
console.log('\n| path | clients | exec/s, p50, p99 | throughput vs in process | p50 added |')
console.log('| --- | --- | --- | --- | --- |')
let httpP50AtOne = 0
for (const concurrency of CLIENTS) {
  const workers = Math.min(concurrency, 4)
  const pool = new SandboxPool({ workers })
  await pool.warm()
  const inProcess = await measure(iterations, concurrency, async () => {
    await pool.execute(CODE)
  })
  await pool.close()
  console.log(row('in process (SandboxPool.execute)', concurrency, inProcess, inProcess))

  const http = await httpServer(workers)
  await fetch(`${http.url}/run_code`, { ...JSON_POST, body: JSON.stringify({ code: CODE }) })
  const overHttp = await measure(iterations, concurrency, async () => {
    const response = await fetch(`${http.url}/run_code`, {
      ...JSON_POST,
      body: JSON.stringify({ code: CODE }),
    })
    await response.json()
  })
  if (concurrency === 1) httpP50AtOne = overHttp.p50
  http.child.kill('SIGTERM')
  await http.child
  console.log(row('sandbox serve --port (HTTP /run_code)', concurrency, overHttp, inProcess))

  const stdio = await stdioServer(workers)
  const overStdio = await measure(iterations, concurrency, stdio.run)
  stdio.child.stdin!.end()
  await stdio.child
  console.log(row('sandbox serve --stdio', concurrency, overStdio, inProcess))
}

// The checks every HTTP request passes before it is read, timed alone on a request as a client sends it.
const request = {
  method: 'POST',
  headers: { host: '127.0.0.1:8080', 'content-type': 'application/json', authorization: 'Bearer t0ken' },
} as unknown as IncomingMessage
const guard = { token: 't0ken', loopbackOnly: true }
const checks = 200_000
const started = performance.now()
for (let i = 0; i < checks; i++) if (refusal(request, guard)) throw new Error('refused a good request')
const checkMs = (performance.now() - started) / checks
console.log(
  `\nrequest checks (Host, Origin, token, content type): ${(checkMs * 1000).toFixed(2)} µs per request, ` +
    `${((checkMs / httpP50AtOne) * 100).toFixed(3)}% of a cell's HTTP p50 at 1 client (${httpP50AtOne.toFixed(2)} ms)`,
)
