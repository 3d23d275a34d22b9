import { Args, Flags } from '@oclif/core'
import { BaseCommand, describeSettings, servedSettings } from '../../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../../cli/flags.js'
import { UsageError } from '../../core/errors.js'
import { outputRunId } from '../../core/run-id.js'
import { EVOLVE_OPTIONS } from '../../evolve/options.js'
import { runEvolve } from '../../evolve/run-evolve.js'
import { BACKEND_OPTIONS } from '../../inference/options.js'
import { configProblems } from '../../pipeline/layout.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../../sandbox/options.js'

export default class HintsEvolve extends BaseCommand {
  static override summary =
    'A hint library that measures and improves itself: candidates A/B-tested against their parents on the same prefixes'

  static override description =
    `Candidates for the library's hints come from a small grammar of rephrasings (--grammar, --candidates
per category) and, with --proposer, from a model shown the category's hints with their measured efficacy.
Each of the first --prefixes problems is sampled up to its first hint point (after a connective, or where
the thinking would close); from there every candidate and its parent are continued --continuations times with
the same seeds (the prefix's KV reused), code run, each continuation graded. A candidate joins the library
(--replace: takes its parent's place) only if it beats the parent on --metric in a one-sided paired test over
prefixes at --alpha after Holm's correction across candidates. Writes <out>/hint-library/<name>-gN.json
(loadable by every --hints flag) with each hint's efficacy and interval, <out>/candidates.jsonl with every
verdict and its reason, and the version's lineage to the store. Every prefix and continuation is a stored
unit: a rerun into the same --out resumes.`

  static override examples = [
    'start hints evolve ../shared/datasets/testbed-train.jsonl --model start-0.gguf --out evolved/ --prefixes 32',
    'start hints evolve train.jsonl --model m.gguf --out evolved/ --dry-run',
    'start hints evolve train.jsonl --model m.gguf --proposer big.gguf --out evolved/ --metric code',
  ]

  static override strict = false

  static override args = {
    problems: Args.string({
      description: 'problem JSONL files or globs (with answers or tests)',
      ignoreStdin: true,
    }),
  }

  static override flags = {
    model: Flags.string({
      char: 'm',
      description: 'GGUF path or model URI; with --backend openai, a GGUF for the chat template',
    }),
    problems: Flags.string({
      description: 'problem JSONL files or globs (with answers or tests); the same as the arguments',
      multiple: true,
    }),
    out: Flags.string({ char: 'o', description: 'directory for the new library version and the candidates' }),
    'dry-run': Flags.boolean({ description: 'list the candidates and the continuations planned, and stop' }),
    run: Flags.string({ description: 'run id (default: one per --out, so a rerun resumes)' }),
    ...configFlag,
    ...flagsFor(EVOLVE_OPTIONS),
    ...flagsFor(BACKEND_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { argv, flags } = await this.parse(HintsEvolve)
    const config = configFrom(flags)
    const at = config && { config, section: 'hints' as const }
    const settings = settingsFrom(EVOLVE_OPTIONS, flags, at)
    const sandbox = settingsFrom(SANDBOX_OPTIONS, flags, at)
    const backend = settingsFrom(BACKEND_OPTIONS, flags, at)
    const model = flags.model ?? config?.model
    if (!model && backend.backend === 'llama-cpp')
      throw new UsageError('--model: required (a GGUF path or model URI), or --config with a model')
    const given = [...(argv as string[]), ...(flags.problems ?? [])]
    const problems = given.length > 0 ? given : config ? [await configProblems(config)] : undefined
    if (!problems) throw new UsageError('PROBLEMS: give problem JSONL files or globs, or --config')
    if (!flags.out) throw new UsageError('--out: required (the directory the new library version goes to)')
    const runId = flags.run ?? outputRunId('hints-evolve', flags.out)
    const progress = this.progress(`hints evolve ${runId}`, flags)
    const summary = await runEvolve({
      problems,
      model,
      settings,
      backend,
      out: flags.out,
      dryRun: flags['dry-run'],
      db: flags.db,
      runId,
      flags: { ...flags, problems },
      toolVersion: this.config.version,
      sandbox: toSandboxOptions(sandbox, 1),
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    if (!this.jsonEnabled()) {
      for (const candidate of summary.candidates) {
        const verdict = candidate.verdict ? `: ${candidate.verdict}` : ''
        this.log(
          `${candidate.id} (${candidate.origin}, against ${candidate.parent}) "${candidate.text}"${verdict}`,
        )
      }
    }
    this.say(
      summary.dryRun
        ? `dry run: ${summary.candidates.length} candidates on ${summary.problems} problems, at most ${summary.planned} continuations`
        : `run ${summary.run}: ${summary.prefixes} prefixes, ${summary.continuations} continuations (${summary.resumed} resumed), ` +
            `${summary.admitted.length} of ${summary.candidates.length} candidates admitted -> ${summary.library}\n` +
            `settings: ${describeSettings({ model, ...settings, ...servedSettings(backend) })}`,
    )
    return summary
  }
}
