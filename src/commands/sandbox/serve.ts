import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { flagsFor, settingsFrom } from '../../cli/flags.js'
import { UsageError } from '../../core/errors.js'
import { SANDBOX_OPTIONS, SANDBOX_SERVE_OPTIONS } from '../../sandbox/options.js'
import { runSandboxServe } from '../../sandbox-service/run-serve.js'

export default class SandboxServe extends BaseCommand {
  static override summary =
    "Serve the sandbox to other processes: JSON lines on stdio, or SandboxFusion's HTTP API"

  static override description =
    `A long-lived sandbox with the same isolation and limits as start sandbox, for trainers and
other tools. --stdio: one JSON request per line ({"id", "code", "session"?, "timeout"? ms, "stdin"?} or
{"id", "close": SESSION}), one answer per line as each finishes ({"id", "result"} | {"id", "closed"} |
{"id", "error"}); it stops at the end of stdin. --port: SandboxFusion's API on loopback (POST /run_code
{code, language, run_timeout s, stdin, session?}, GET /health, GET /v1/ping; POST /open_session gives a
session id, the only way to one, and POST /close_session closes it; POST /grade grades a record), JSON
bodies only, no requests from web pages; it prints its URL on stderr when ready. SIGINT or SIGTERM stops
it: running cells get up to the server's own limit, a second signal stops at once. No client limit goes
past the server's; an idle session closes after --session-idle seconds.`

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
    const token = settings.tokenEnv ? process.env[settings.tokenEnv] : undefined
    if (settings.tokenEnv && !token) {
      throw new UsageError(`--token-env ${settings.tokenEnv}: the variable is not set`)
    }
    await runSandboxServe({
      settings,
      limits: settingsFrom(SANDBOX_OPTIONS, flags),
      transport: flags.stdio ? { stdio: true } : { port: flags.port! },
      token,
      notice: (line) => this.logToStderr(line),
    })
  }
}
