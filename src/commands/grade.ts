import { Args, Flags } from '@oclif/core'
import { BaseCommand, describeSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { GRADING_OPTIONS, toGradingOptions } from '../grading/options.js'
import { runGrade } from '../grading/run-grade.js'

export default class Grade extends BaseCommand {
  static override summary =
    'Grade model answers: math by equivalence (sympy when needed), code by running its tests'

  static override description =
    `Each record holds the model's "completion" (or a trajectory's "text") and a reference: "answer" (math),
"tests" + "entry_point" + "problem" (HumanEval: check(entry_point) runs in the sandbox), or "tests" as a
list of {"input","output"} stdin/stdout cases. Records come back, in order, with "predicted" (the
extracted answer or code) and "correct" added, each as soon as it is graded.`

  static override examples = [
    'start grade trajectories.jsonl --out graded.jsonl --json',
    `echo '{"completion": "so \\\\boxed{\\\\frac12}", "answer": "0.5"}' | start grade`,
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'JSONL files or globs (- for stdin)',
      default: '-',
      ignoreStdin: true,
    }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    ...configFlag,
    ...flagsFor(GRADING_OPTIONS),
  }

  async run() {
    const { args, argv, flags } = await this.parse(Grade)
    const config = configFrom(flags)
    const settings = settingsFrom(GRADING_OPTIONS, flags, config && { config, section: 'sandbox' })
    const progress = this.progress('grade', flags)
    const summary = await runGrade({
      inputs: argv.length > 0 ? (argv as string[]) : [args.inputs],
      out: flags.out,
      ...toGradingOptions(settings),
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    this.say(
      `graded ${summary.records}: ${summary.correct} correct (${(summary.accuracy * 100).toFixed(1)}%), ` +
        `${summary.answered} answered, ${summary.symbolicCells} sympy cells, ${summary.codeRuns} code runs` +
        refusals(summary.reasons) +
        `\nsettings: ${describeSettings(settings)}`,
    )
    return { ...summary, settings }
  }
}

/** "; not correct: 3 not equal, 2 hedged", most frequent first; nothing when all are correct. */
function refusals(reasons: Record<string, number>): string {
  const counts = Object.entries(reasons).sort((a, b) => b[1] - a[1])
  return counts.length ? `\nnot correct: ${counts.map(([reason, n]) => `${n} ${reason}`).join(', ')}` : ''
}
