import { Args, Flags } from '@oclif/core'
import { BaseCommand, describeSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { newRunId } from '../core/run-id.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { runFilter } from '../filter/run-filter.js'
import { isStepRule } from '../filter/types.js'
import { GRADING_OPTIONS, toGradingOptions } from '../grading/options.js'
import { pipelinePaths } from '../pipeline/layout.js'
import { runStepFilter } from '../swirl/run-step-filter.js'

export default class Filter extends BaseCommand {
  static override summary = 'Grade, score, select, deduplicate and decontaminate trajectories into D_seed'

  static override description =
    `Reads hinted trajectories (from start hint-infer) and, for START's hint-gain rule, the plain ones of the
same problems (--plain, from hint-infer --no-hints). Keeps the hinted trajectories that are correct where
the plain runs fail, use tools, stay under the caps and are not repetitive, drops exact and near
duplicates (MinHash) and problems that overlap the --decontaminate sets, and writes D_seed as chat
JSONL: "messages" with the whole trajectory as the assistant turn, plus "outputSpans", the interpreter
output to mask from the loss. --json prints counts per rejection reason.

Over step records (start steps, judged by start judge), --rule process|outcome|both|none selects steps, as
SWiRL does: process keeps the steps the process judge said yes to (unjudged is not yes), outcome the steps of
trajectories whose final answer grades correct (else the outcome judge's verdict), both needs both, none keeps
every step; then the same caps, dedup (same state and action; near duplicates by the action) and
decontamination. Each kept step is a step-wise SFT example: the state is masked with the interpreter output
("outputSpans"), only the action is learned, and a step that ends at a tool call has "continues": true (no
end of turn is trained after it). With --config, the settings
(and, when no input is given, the pipeline's hinted and plain trajectories) come from a pipeline config.`

  static override examples = [
    'start filter hinted.jsonl --plain plain.jsonl --out d_seed.jsonl --json',
    'start judge steps.jsonl --judge rules | start filter --rule process --out d_steps.jsonl',
    "start filter 'runs/*.jsonl' --rule correct --per-problem 4 --decontaminate '../shared/datasets/{aime24,math500}.jsonl'",
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({ description: 'hinted trajectory JSONL files or globs (- for stdin)' }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write D_seed JSONL here (atomically) instead of stdout' }),
    plain: Flags.string({
      description: 'plain (hint-free) trajectories, for --rule hint-gain',
      multiple: true,
    }),
    scores: Flags.string({ description: "also write every trajectory's scores and decision (JSONL)" }),
    run: Flags.string({ description: 'run id (a rerun recomputes and replaces the dataset)' }),
    ...configFlag,
    ...flagsFor(FILTER_OPTIONS),
    ...flagsFor(GRADING_OPTIONS),
  }

  async run() {
    const { argv, flags } = await this.parse(Filter)
    const config = configFrom(flags)
    const at = config && { config, section: 'filter' as const }
    const settings = settingsFrom(FILTER_OPTIONS, flags, at)
    const grading = settingsFrom(GRADING_OPTIONS, flags, at)
    const paths = config && pipelinePaths(config)
    const inputs = argv.length > 0 ? (argv as string[]) : paths ? [paths.hinted] : ['-']
    const plain = flags.plain ?? (paths && settings.rule === 'hint-gain' ? [paths.plain] : [])
    const runId = flags.run ?? newRunId('filter')
    const progress = this.progress(`filter ${runId}`, flags)
    // Step records (SWiRL's step rules) and trajectories share the flags, not the reader.
    const filter = isStepRule(settings.rule) ? runStepFilter : runFilter
    const summary = await filter({
      inputs,
      plain,
      settings,
      scoresOut: flags.scores,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, inputs },
      toolVersion: this.config.version,
      ...toGradingOptions(grading),
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    const reasons = Object.entries(summary.rejected)
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ')
    this.say(
      `run ${summary.run}: kept ${summary.kept} of ` +
        (summary.steps === undefined
          ? `${summary.trajectories} trajectories `
          : `${summary.steps} steps of ${summary.trajectories} trajectories `) +
        `(${summary.keptProblems} of ${summary.problems} problems)${reasons ? `; rejected: ${reasons}` : ''}` +
        `\nsettings: ${describeSettings(settings)}`,
    )
    return { ...summary, settings: { ...settings, ...grading } }
  }
}
