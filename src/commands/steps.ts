import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { STDIN } from '../core/jsonl.js'
import { runSplitSteps } from '../swirl/run-split-steps.js'

export default class Steps extends BaseCommand {
  static override summary =
    "Split trajectories into SWiRL's steps: state, action (to a tool call or the answer), tool output"

  static override description =
    `Each trajectory (start hint-infer's JSONL) becomes one record per step: the state (the
prompt and everything before the step, earlier tool outputs included), the action (the text up to and with
the next code block the interpreter ran, or to the end: the final answer), the tool output that followed,
and where it came from (run, problem, sample, step). The split is exact: state + action + output is the next
state, and the last state + action is the trajectory. Hints the loop inserted are marked in insertedSpans.`

  static override examples = [
    'start steps hinted.jsonl --out steps.jsonl',
    'cat hinted.jsonl | start steps > steps.jsonl',
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'trajectory JSONL files or globs (- for stdin)',
      default: STDIN,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    run: Flags.string({ description: 'run id (default: a new one)' }),
  }

  async run() {
    const { args, argv, flags } = await this.parse(Steps)
    const inputs = argv.length > 0 ? (argv as string[]) : [args.inputs]
    const { options, progress } = this.streamingStage('steps', inputs, flags)
    const summary = await runSplitSteps(options)
    progress.end()
    this.say(
      `run ${summary.run}: ${summary.trajectories} trajectories -> ${summary.steps} steps (${summary.toolSteps} end in a tool call)`,
    )
    return summary
  }
}
