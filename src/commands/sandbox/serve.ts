import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { flagsFor, settingsFrom } from '../../cli/flags.js'
import { UsageError } from '../../core/errors.js'
import { SANDBOX_OPTIONS, SANDBOX_SERVE_OPTIONS, toSandboxOptions } from '../../sandbox/options.js'
import { SandboxService, sandboxHttpServer, serveStdio } from '../../sandbox-service/serve.js'

export default class SandboxServe extends BaseCommand {
  static override summary =
    "Serve the sandbox to other processes: JSON lines on stdio, or SandboxFusion's HTTP API"

  static override description =
    `A long-lived sandbox with the same isolation and limits as start sandbox, for trainers and
other tools. --stdio: one JSON request per line ({"id", "code", "session"?, "timeout"? ms, "stdin"?} or
{"id", "close": SESSION}), one answer per line as each finishes ({"id", "result"} | {"id", "closed"} |
{"id", "error"}); it stops at the end of stdin. --port: SandboxFusion's API on localhost (POST /run_code
{code, language, run_timeout s, stdin, session?}, POST /close_session, GET /health, GET /v1/ping); it prints
its URL on stderr when ready and stops cleanly on SIGINT/SIGTERM. Cells with the same session share a
namespace, in order; an idle session closes after --session-idle seconds.`

  static override examples = [
    'echo \'{"id": 1, "code": "print(2**10)"}\' | start sandbox serve --stdio',
    'start sandbox serve --port 8080 --concurrency 8',
  ]

  static override enableJsonFlag = false

  static override flags = {
    stdio: Flags.boolean({ description: 'JSON lines over stdin/stdout', exclusive: ['port'] }),
    port: Flags.integer({
      description: 'HTTP on this port (0: any free one)',
      exclusive: ['stdio'],
      min: 0,
      max: 65_535,
    }),
    ...flagsFor(SANDBOX_SERVE_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(SandboxServe)
    if (!flags.stdio && flags.port === undefined) throw new UsageError('give --stdio or --port P')
    const settings = settingsFrom(SANDBOX_SERVE_OPTIONS, flags)
    const limits = settingsFrom(SANDBOX_OPTIONS, flags)
    const token = settings.tokenEnv ? process.env[settings.tokenEnv] : undefined
    if (settings.tokenEnv && !token)
      throw new UsageError(`--token-env ${settings.tokenEnv}: the variable is not set`)
    const service = new SandboxService({
      sandbox: toSandboxOptions(limits, settings.concurrency),
      maxSessions: settings.maxSessions,
      sessionIdleMs: settings.sessionIdle * 1000,
    })
    try {
      await service.pool.warm()
      if (flags.stdio) {
        const answered = await serveStdio(service, process.stdin, process.stdout)
        this.logToStderr(`sandbox serve: ${answered} requests answered`)
        return
      }
      const server = sandboxHttpServer(service, { token })
      await new Promise<void>((listening, failed) => {
        server.once('listening', listening)
        server.once('error', (error: NodeJS.ErrnoException) => {
          // A host that does not resolve or is not this machine's is the host's fault; the rest the port's.
          const host = ['ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(error.code ?? '')
          const flag = host ? `--host ${settings.host}` : `--port ${flags.port}`
          failed(new UsageError(`${flag}: ${error.code ?? error.message} (${error.message})`))
        })
        server.listen(flags.port, settings.host)
      })
      const { port } = server.address() as AddressInfo
      this.logToStderr(`sandbox serve: listening on http://${settings.host}:${port}`)
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')])
      // Finish what is running, then stop.
      server.close()
      while (service.running > 0) await new Promise((resolve) => setTimeout(resolve, 50))
      server.closeAllConnections()
      this.logToStderr(`sandbox serve: stopped after ${service.executed} cells`)
    } finally {
      await service.close()
    }
  }
}
