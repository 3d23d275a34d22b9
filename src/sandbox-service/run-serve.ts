import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { UsageError } from '../core/errors.js'
import type { OptionValues } from '../core/options.js'
import { type SANDBOX_OPTIONS, type SANDBOX_SERVE_OPTIONS, toSandboxOptions } from '../sandbox/options.js'
import { GradingThreads } from './grading.js'
import { isLoopback, sandboxHttpServer } from './http.js'
import { SandboxService } from './service.js'
import { serveStdio } from './stdio.js'

export interface SandboxServeOptions {
  settings: OptionValues<typeof SANDBOX_SERVE_OPTIONS>
  limits: OptionValues<typeof SANDBOX_OPTIONS>
  /** JSON lines on stdin/stdout, or HTTP on this port (0: any free one). */
  transport: { stdio: true } | { port: number }
  /** The bearer token (read from --token-env by the command). */
  token?: string
  notice: (line: string) => void
}

/** How long past the longest cell a graceful stop waits before it stops anyway (records being graded are
 * answered 503: their grading restarts elsewhere at no cost to anyone's sandbox). */
const STOP_GRACE_MS = 2000

/** `start sandbox serve`: the sandbox as a service, until stdin ends (--stdio) or a signal (HTTP). */
export async function runSandboxServe(options: SandboxServeOptions): Promise<void> {
  const { settings, notice } = options
  if ('port' in options.transport && !isLoopback(settings.host) && !options.token) {
    throw new UsageError(
      `--host ${settings.host}: listening beyond loopback needs --token-env (anyone who reaches the port could run code)`,
    )
  }
  const service = new SandboxService({
    sandbox: toSandboxOptions(options.limits, settings.concurrency),
    maxSessions: settings.maxSessions,
    sessionIdleMs: settings.sessionIdle * 1000,
  })
  const grading = new GradingThreads(service.pool, {
    threads: settings.gradeThreads,
    budgetMs: settings.gradeBudget * 1000,
  })
  try {
    await service.pool.warm()
    if ('stdio' in options.transport) {
      const answered = await serveStdio(service, process.stdin, process.stdout)
      notice(`sandbox serve: ${answered} requests answered`)
      return
    }
    const server = sandboxHttpServer(service, grading, {
      token: options.token,
      loopbackOnly: isLoopback(settings.host),
    })
    const port = await listen(server, options.transport.port, settings.host)
    notice(`sandbox serve: listening on http://${urlHost(settings.host)}:${port}`)
    await signalled()
    const boundMs = service.timeoutMs + STOP_GRACE_MS
    notice(
      `sandbox serve: stopping; running cells get up to ${boundMs / 1000} s (a second signal stops at once)`,
    )
    server.close()
    await drained(service, boundMs)
    server.closeAllConnections()
    notice(`sandbox serve: stopped after ${service.executed} cell${service.executed === 1 ? '' : 's'}`)
  } finally {
    await grading.close()
    await service.close()
  }
}

/** Resolves on the first SIGINT or SIGTERM (handled: neither ends the process by itself). */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** Until no cell runs, the bound passes, or a second signal comes. */
async function drained(service: SandboxService, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs
  let again = false
  const now = () => {
    again = true
  }
  process.once('SIGINT', now)
  process.once('SIGTERM', now)
  try {
    while (service.running > 0 && Date.now() < deadline && !again) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    process.off('SIGINT', now)
    process.off('SIGTERM', now)
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((listening, failed) => {
    server.once('listening', () => listening((server.address() as AddressInfo).port))
    server.once('error', (error: NodeJS.ErrnoException) => {
      // A host that does not resolve or is not this machine's is the host's fault; the rest the port's.
      const hostFault = ['ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(error.code ?? '')
      const flag = hostFault ? `--host ${host}` : `--port ${port}`
      failed(new UsageError(`${flag}: ${error.code ?? error.message} (${error.message})`))
    })
    server.listen(port, host)
  })
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
