import { Flags } from '@oclif/core'
import { BaseCommand, describeSettings, servedSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { planLines } from '../cli/progress.js'
import { UsageError } from '../core/errors.js'
import { BACKEND_OPTIONS } from '../inference/options.js'
import { configPool, pipelinePaths } from '../pipeline/layout.js'
import { RFT_OPTIONS } from '../rft/options.js'
import { rftRunId, runRft } from '../rft/run-rft.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'

export default class Rft extends BaseCommand {
  static override summary =
    'Rejection-sampling fine-tuning: D_seed -> START-0 (stage 1), self-distillation -> START (stage 2)'

  static override description =
    `Stage 1 fine-tunes --base on D_seed (from start filter) into <out>/start-0/ and exports
<out>/start-0.gguf. Stage 2 lets START-0 sample --samples solutions per --problems problem (hint-infer, hints
off), keeps the correct, deduplicated ones (per-problem and tool-call caps) as <out>/d_start.jsonl, fine-tunes
the base (or START-0 with --from start-0) into <out>/start/ and exports <out>/start.gguf. SFT runs with TRL
through accelerate (loss on the assistant turn only, interpreter output masked), in the project's own
virtualenv (start setup). Each step is skipped on a rerun once its output is current. With --config, the
settings of rft.stage1 / rft.stage2 and, when not given, the base, data, pool and out of a pipeline config.`

  static override examples = [
    'start rft --stage 1 --base model.gguf --data d_seed.jsonl --out rft/',
    'start rft --stage 2 --base model.gguf --problems train.jsonl --out rft/ --samples 16',
    'start rft --stage 1 --base ./hf-model --data d_seed.jsonl --out rft/ --lora --num-processes 8 --accelerate-config fsdp.yaml',
    'start rft --stage 2 --config examples/testbed.config.yaml --dry-run',
  ]

  static override flags = {
    stage: Flags.integer({ description: 'which stage', options: ['1', '2'], required: true }),
    base: Flags.string({ description: 'base model: GGUF file or Hugging Face checkpoint directory' }),
    out: Flags.string({ description: 'directory for the checkpoints, GGUFs, datasets and logs' }),
    data: Flags.string({ description: 'stage 1: D_seed chat JSONL (start filter --out)' }),
    problems: Flags.string({ description: 'stage 2: problem pool (JSONL files or globs)', multiple: true }),
    'dry-run': Flags.boolean({
      description: 'print the plan (steps, outputs, what is done) and stop',
      default: false,
    }),
    run: Flags.string({ description: 'run id (default: one per --out and stage, so a rerun resumes)' }),
    ...configFlag,
    ...flagsFor(RFT_OPTIONS),
    ...flagsFor(BACKEND_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(Rft)
    const stage = flags.stage as 1 | 2
    const config = configFrom(flags)
    const at = config && { config, section: stage === 1 ? ('rft.stage1' as const) : ('rft.stage2' as const) }
    const settings = settingsFrom(RFT_OPTIONS, flags, at)
    const sandbox = settingsFrom(SANDBOX_OPTIONS, flags, at)
    const backend = settingsFrom(BACKEND_OPTIONS, flags, at)
    const paths = config && pipelinePaths(config)
    const base = flags.base ?? config?.model
    const out = flags.out ?? paths?.rft
    if (!base) throw new UsageError('--base: required (a GGUF file or Hugging Face checkpoint), or --config')
    if (!out) throw new UsageError('--out: required (the directory everything is written to), or --config')
    const problems = flags.problems ?? (config && stage === 2 ? [await configPool(config)] : undefined)
    const runId = flags.run ?? rftRunId(out, stage)
    const progress = this.progress(`rft stage ${stage}`, flags)
    const summary = await runRft({
      stage,
      base,
      out,
      data: flags.data ?? paths?.dSeed,
      problems,
      settings,
      sandbox: toSandboxOptions(sandbox, 1),
      backend,
      dryRun: flags['dry-run'],
      db: flags.db,
      runId,
      flags,
      toolVersion: this.config.version,
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    if (summary.dryRun && !this.jsonEnabled()) {
      for (const line of planLines(summary.steps)) this.log(line)
    } else if (summary.model) this.say(`run ${summary.run}: ${summary.model}`)
    this.say(`settings: ${describeSettings({ ...settings, ...servedSettings(backend) })}`)
    return { ...summary, settings: { ...settings, ...sandbox, ...servedSettings(backend) } }
  }
}
