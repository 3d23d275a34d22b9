import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { ensureLlamaCppSource } from '../core/llama-cpp-source.js'
import { ensureLlamaServer } from '../llama-server/runner.js'
import { ensureTrainingEnv } from '../training/python-env.js'

export default class Setup extends BaseCommand {
  static override summary =
    "Install the trainer's Python virtualenv and llama.cpp's converter (start rft also does it on first use)"

  static override description =
    `Creates a virtualenv (default ~/.cache/start/venv-<hash>, or $START_VENV) with the pinned
torch, transformers, trl, peft, accelerate, datasets, gguf and sentencepiece from the machine's package
index, and clones the llama.cpp source bundled in node-llama-cpp (for convert_hf_to_gguf.py). With --server,
also builds llama-server from that source (only that target; about 10 minutes on 2 cores) for start server.
Does nothing for what is already there.`

  static override flags = {
    venv: Flags.string({ description: 'virtualenv directory' }),
    python: Flags.string({ description: 'interpreter that creates the virtualenv', default: 'python3' }),
    server: Flags.boolean({
      description: "also build llama.cpp's HTTP server (llama-server), for start server",
      default: false,
    }),
  }

  async run() {
    const { flags } = await this.parse(Setup)
    if (!this.jsonEnabled())
      this.logToStderr('setting up the trainer (a minute or several the first time)...')
    const env = await ensureTrainingEnv({
      venv: flags.venv,
      python: flags.python,
      onLog: (line) => this.logToStderr(line),
    })
    const llamaCpp = await ensureLlamaCppSource()
    if (!this.jsonEnabled()) {
      this.logToStderr(`${env.installed ? 'installed' : 'ready'}: ${env.venv}; llama.cpp source: ${llamaCpp}`)
    }
    if (!flags.server) return { ...env, llamaCpp }
    const server = await ensureLlamaServer((notice) => this.say(notice))
    this.say(`${server.built ? 'built' : 'ready'}: ${server.binary}`)
    return { ...env, llamaCpp, llamaServer: server.binary }
  }
}
