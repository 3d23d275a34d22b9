import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { STDIN } from '../../cli/jsonl.js'
import { progressRenderer } from '../../cli/progress.js'
import { newRunId, sandboxFlags, toSandboxOptions } from '../../cli/sandbox-flags.js'
import { runSandboxFile } from '../../sandbox/run-sandbox.js'

export default class Sandbox extends BaseCommand {
  static override summary =
    'Run the Python in JSONL records (a "code" field, or a trajectory\'s ```python blocks) in the sandbox'

  static override description =
    `Each record comes back with "result" (a code record: run alone, in a fresh namespace)
or "executions" (a trajectory: its blocks run in order in one session, like notebook cells).
Results are stored under --run; rerunning the same --run skips records already done.`

  static override examples = [
    'start sandbox cells.jsonl --out results.jsonl',
    'echo \'{"code": "print(2**100)"}\' | start sandbox',
    'start sandbox trajectories.jsonl --run check-1 --concurrency 4 --timeout 5000',
  ]

  static override args = {
    input: Args.string({ description: 'JSONL file, or - for stdin', default: STDIN, ignoreStdin: true }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    'code-field': Flags.string({ description: 'field holding the code (dotted path)', default: 'code' }),
    concurrency: Flags.integer({ char: 'c', description: 'cells run at once', default: 2, min: 1 }),
    echo: Flags.boolean({
      description: "print a cell's trailing expression, as a notebook does",
      default: false,
    }),
    'skip-invalid': Flags.boolean({
      description: 'report and skip records with nothing to run',
      default: false,
    }),
    run: Flags.string({ description: 'run id: resume this run (default: a new one)' }),
    ...sandboxFlags,
  }

  async run() {
    const { args, flags } = await this.parse(Sandbox)
    const runId = flags.run ?? newRunId('sandbox')
    const progress = progressRenderer(`sandbox ${runId}`, this.showProgress)
    const summary = await runSandboxFile({
      input: args.input,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, input: args.input },
      toolVersion: this.config.version,
      codeField: flags['code-field'],
      concurrency: flags.concurrency,
      echo: flags.echo,
      skipInvalid: flags['skip-invalid'],
      onInvalid: (message) => this.warn(message),
      sandbox: toSandboxOptions(flags, flags.concurrency),
      onProgress: progress,
    })
    progress.end()
    if (!this.jsonEnabled()) {
      this.logToStderr(
        `run ${summary.run}: ${summary.records} records, ${summary.executed} cells run, ${summary.resumed} resumed, ` +
          `${summary.failed} failed, ${summary.timedOut} timed out, ${summary.skipped} skipped`,
      )
    }
    return summary
  }
}
