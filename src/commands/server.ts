import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { flagsFor, settingsFrom } from '../cli/flags.js'
import { startHome } from '../core/start-home.js'
import { checkGgufModel } from '../inference/llama-cpp.js'
import { SERVER_OPTIONS } from '../llama-server/options.js'
import { ensureLlamaServer, startServer } from '../llama-server/runner.js'

export default class Server extends BaseCommand {
  static override summary =
    "Serve a GGUF model with llama.cpp's HTTP server (OpenAI-compatible), in the foreground"

  static override description =
    `Builds llama-server from the llama.cpp source node-llama-cpp ships the first time (about 10
minutes on 2 cores; kept in start's home, as \`start setup --server\` does), starts it, and prints its URL on
stdout once the model is loaded. The server's own log goes to a file in start's home, named by port.
Ctrl-C (or SIGTERM) stops it.`

  static override examples = ['start server --model model.gguf --port 8080 --parallel 8']

  // It runs until stopped: its one result, the URL, is printed as soon as it is there.
  static override enableJsonFlag = false

  static override flags = {
    model: Flags.string({ description: 'GGUF model to serve', required: true }),
    ...flagsFor(SERVER_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(Server)
    const settings = settingsFrom(SERVER_OPTIONS, flags)
    await checkGgufModel(flags.model, '--model')
    const build = await ensureLlamaServer((notice) => this.say(notice))
    const log = `${startHome()}/llama-server-${settings.port}.log`
    const server = await startServer(build.binary, { model: flags.model, ...settings }, log)
    const stop = () => server.process.kill('SIGTERM')
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    this.log(server.url)
    this.say(`serving ${flags.model} at ${server.url} (log: ${log}); Ctrl-C stops it`)
    this.say(
      `hint-infer on it: --backend openai --base-url ${server.url} --concurrency ${2 * settings.parallel} (twice the slots keeps them busy)`,
    )
    const code = await server.exited
    if (code !== 0 && code !== null)
      this.error(`llama-server exited with status ${code}; see ${log}`, { exit: 1 })
  }
}
