import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { STDIN } from '../core/jsonl.js'
import { runJudge } from '../swirl/run-judge.js'

export default class Judge extends BaseCommand {
  static override summary =
    "Label each step of start steps: reasonable given its state, or not (SWiRL's process judge)"

  static override description =
    `--judge rules (the offline judge; no model, no gold answer): a step that calls a tool is
reasonable when its code ran, its output is used later in the trajectory, and it does not repeat an earlier
code block; the final step when it gives a boxed answer that is what the last output printed (when there was
one). Each record comes back with "judgement": {judge, verdict, reasons}. A trajectory's steps must be
consecutive, as start steps writes them.`

  static override examples = ['start judge steps.jsonl --judge rules --out judged.jsonl']

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'step JSONL files or globs (- for stdin)',
      default: STDIN,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    judge: Flags.string({ description: 'which judge', options: ['rules'], default: 'rules' }),
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    run: Flags.string({ description: 'run id (default: a new one)' }),
  }

  async run() {
    const { args, argv, flags } = await this.parse(Judge)
    const inputs = argv.length > 0 ? (argv as string[]) : [args.inputs]
    const { options, progress } = this.streamingStage('judge', inputs, flags)
    const summary = await runJudge(options)
    progress.end()
    this.say(
      `run ${summary.run}: ${summary.reasonable} of ${summary.steps} steps reasonable (${JSON.stringify(summary.reasons)})`,
    )
    return summary
  }
}
