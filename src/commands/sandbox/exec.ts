import { text } from 'node:stream/consumers'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { flagsFor, settingsFrom } from '../../cli/flags.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../../sandbox/options.js'
import { SandboxPool } from '../../sandbox/pool.js'

export default class SandboxExec extends BaseCommand {
  static override summary = 'Run one Python snippet from stdin in the sandbox and print the result as JSON'

  static override description =
    'Exits 0 when the snippet succeeded, 1 when it raised, exited non-zero or timed out.'

  static override examples = ['echo "import sympy; print(sympy.factorint(360))" | start sandbox exec']

  static override enableJsonFlag = false

  static override flags = {
    code: Flags.string({ description: 'the snippet (instead of stdin)' }),
    echo: Flags.boolean({ description: "print the trailing expression's value", default: false }),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(SandboxExec)
    const code = flags.code ?? (await text(process.stdin))
    const pool = new SandboxPool(toSandboxOptions(settingsFrom(SANDBOX_OPTIONS, flags), 1))
    try {
      const result = await pool.execute(code, { echo: flags.echo })
      this.log(JSON.stringify(result))
      if (result.exitCode !== 0) this.exit(1)
    } finally {
      await pool.close()
    }
  }
}
