import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { gradingFlags, toGradingOptions } from '../cli/grading-flags.js'
import { fractionFlag } from '../cli/number-flags.js'
import { progressRenderer } from '../cli/progress.js'
import { newRunId } from '../cli/sandbox-flags.js'
import { runFilter } from '../filter/run-filter.js'
import { DEFAULT_FILTER_POLICY as DEFAULTS, type SelectionRule } from '../filter/types.js'

export default class Filter extends BaseCommand {
  static override summary = 'Grade, score, select, deduplicate and decontaminate trajectories into D_seed'

  static override description =
    `Reads hinted trajectories (from start hint-infer) and, for START's hint-gain rule, the plain ones of the
same problems (--plain, from hint-infer --no-hints). Keeps the hinted trajectories that are correct where
the plain runs fail, use tools, stay under the caps and are not repetitive, drops exact and near
duplicates (MinHash) and problems that overlap the --decontaminate sets, and writes D_seed as chat
JSONL: "messages" with the whole trajectory as the assistant turn, plus "outputSpans", the interpreter
output to mask from the loss. --json prints counts per rejection reason.`

  static override examples = [
    'start filter hinted.jsonl --plain plain.jsonl --out d_seed.jsonl --json',
    "start filter 'runs/*.jsonl' --rule correct --per-problem 4 --decontaminate '../shared/datasets/{aime24,math500}.jsonl'",
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'hinted trajectory JSONL files or globs (- for stdin)',
      default: '-',
    }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write D_seed JSONL here (atomically) instead of stdout' }),
    plain: Flags.string({
      description: 'plain (hint-free) trajectories, for --rule hint-gain',
      multiple: true,
    }),
    rule: Flags.string({
      description: 'selection rule',
      options: ['hint-gain', 'correct'],
      default: DEFAULTS.rule,
    }),
    'max-plain-accuracy': Flags.string({
      description: 'hint-gain: highest share of correct plain runs a problem may have',
      default: String(DEFAULTS.maxPlainAccuracy),
    }),
    'min-tool-calls': Flags.integer({
      description: 'fewest tool calls kept',
      default: DEFAULTS.minToolCalls,
      min: 0,
    }),
    'max-tool-calls': Flags.integer({
      description: 'most tool calls kept',
      default: DEFAULTS.maxToolCalls,
      min: 0,
    }),
    'max-chars': Flags.integer({
      description: 'longest trajectory kept',
      default: DEFAULTS.maxChars,
      min: 1,
    }),
    'max-repetition': Flags.string({
      description: 'highest share of repeated word 8-grams',
      default: String(DEFAULTS.maxRepetition),
    }),
    'max-repeated-code': Flags.integer({
      description: 'most code blocks repeated verbatim',
      default: DEFAULTS.maxRepeatedCode,
      min: 0,
    }),
    'near-duplicate': Flags.string({
      description: 'MinHash Jaccard at which trajectories of a problem are duplicates (1 turns it off)',
      default: String(DEFAULTS.nearDuplicate),
    }),
    'per-problem': Flags.integer({
      description: 'most trajectories kept per problem (0: no cap)',
      default: 0,
      min: 0,
    }),
    decontaminate: Flags.string({
      description: 'evaluation problem sets (JSONL or glob) to keep out',
      multiple: true,
    }),
    ngram: Flags.integer({
      description: 'word n-gram length of the contamination check',
      default: 13,
      min: 3,
    }),
    'drop-hints': Flags.boolean({
      description: 'remove the inserted hints from the kept text',
      default: false,
    }),
    scores: Flags.string({ description: "also write every trajectory's scores and decision (JSONL)" }),
    name: Flags.string({ description: "the dataset's name in the store", default: 'D_seed' }),
    run: Flags.string({ description: 'run id (a rerun recomputes and replaces the dataset)' }),
    ...gradingFlags,
  }

  async run() {
    const { args, argv, flags } = await this.parse(Filter)
    const runId = flags.run ?? newRunId('filter')
    const progress = progressRenderer(`filter ${runId}`, this.showProgress)
    const summary = await runFilter({
      inputs: argv.length > 0 ? (argv as string[]) : [args.inputs],
      plain: flags.plain ?? [],
      policy: {
        rule: flags.rule as SelectionRule,
        maxPlainAccuracy: fractionFlag('max-plain-accuracy', flags['max-plain-accuracy']),
        minToolCalls: flags['min-tool-calls'],
        maxToolCalls: flags['max-tool-calls'],
        maxChars: flags['max-chars'],
        maxRepetition: fractionFlag('max-repetition', flags['max-repetition']),
        maxRepeatedCode: flags['max-repeated-code'],
        nearDuplicate: fractionFlag('near-duplicate', flags['near-duplicate']),
        perProblem: flags['per-problem'],
      },
      decontaminate: flags.decontaminate ?? [],
      ngram: flags.ngram,
      dropHints: flags['drop-hints'],
      scoresOut: flags.scores,
      name: flags.name,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, inputs: argv },
      toolVersion: this.config.version,
      ...toGradingOptions(flags),
      onProgress: progress,
    })
    progress.end()
    if (!this.jsonEnabled()) {
      const reasons = Object.entries(summary.rejected)
        .filter(([, count]) => count > 0)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(', ')
      this.logToStderr(
        `run ${summary.run}: kept ${summary.kept} of ${summary.trajectories} trajectories ` +
          `(${summary.keptProblems} of ${summary.problems} problems)${reasons ? `; rejected: ${reasons}` : ''}`,
      )
    }
    return summary
  }
}
