import { Flags } from '@oclif/core'
import { BaseCommand, describeSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { planLines } from '../cli/progress.js'
import { UsageError } from '../core/errors.js'
import { configPool, pipelinePaths, pipelineRlSettings } from '../pipeline/layout.js'
import { RL_OPTIONS } from '../rl/options.js'
import { rlRunId, runRl } from '../rl/run-rl.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'

export default class Rl extends BaseCommand {
  static override summary =
    'Reinforcement learning with the interpreter in the rollout (ReTool): GRPO from START-0 on TRL'

  static override description =
    `Each step, --num-generations rollouts per problem run the hint-infer loop on the policy being
trained: code blocks run in the sandbox and their output is appended (masked from the loss, as hints are
with --hints), the grader scores the answer, and the reward (outcome: +1 correct, -1 otherwise; shaped: plus
tool and format terms) drives a GRPO update (TRL's GRPOTrainer). Writes <out>/policy/ and <out>/rl.gguf,
each step's metrics to the store and <out>/metrics.jsonl (start report draws them), and the rollouts to
<out>/rollouts/. A checkpoint every --save-steps: a rerun after a kill resumes from the last one. With
--config, the settings of the config's rl: section and, when not given, START-0, the pool and out.

--objective stepwise (SWiRL): --problems are step records (start steps, start judge); each rollout is one
action from a state (the state's text is the prompt; the action ends when its first code block has run, or
with the turn), only the action is trained, and the judge's verdict on it is the reward: the rules judge on
the step alone, or --judge-model answering --rubric; +1 yes, -1 no or unjudged. The baseline is then the
batch's leave-one-out mean (--baseline batch), which still learns when every sample of a group is judged alike.`

  static override examples = [
    'start rl --base rft/start-0.gguf --problems train.jsonl --out rl/ --max-steps 100',
    'start rl --base rft/start-0 --problems train.jsonl --out rl/ --num-generations 16 --reward shaped --hints',
    'start rl --base base.gguf --objective stepwise --problems judged-steps.jsonl --out rl-steps/ --num-generations 2 --prompts-per-step 8',
  ]

  static override flags = {
    base: Flags.string({
      description: 'the starting policy (START-0): GGUF file or Hugging Face checkpoint',
    }),
    problems: Flags.string({
      description:
        'problems the rollouts solve (JSONL files or globs); step records with --objective stepwise',
      multiple: true,
    }),
    out: Flags.string({ description: 'directory for the policy, GGUF, checkpoints, rollouts and logs' }),
    'dry-run': Flags.boolean({ description: 'print the plan and stop', default: false }),
    run: Flags.string({ description: 'run id (default: one per --out, so a rerun resumes)' }),
    ...configFlag,
    ...flagsFor(RL_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(Rl)
    const config = configFrom(flags)
    const at = config && { config, section: 'rl' as const }
    const flagged = settingsFrom(RL_OPTIONS, flags, at)
    const settings = config ? pipelineRlSettings(config, flagged) : flagged
    const sandbox = settingsFrom(SANDBOX_OPTIONS, flags, at)
    const paths = config && pipelinePaths(config)
    const base = flags.base ?? paths?.layout.start0Gguf
    const out = flags.out ?? paths?.rl
    if (!base)
      throw new UsageError('--base: required (START-0 as GGUF or Hugging Face checkpoint), or --config')
    if (!out) throw new UsageError('--out: required (the directory everything is written to), or --config')
    const progress = this.progress('rl', flags)
    const summary = await runRl({
      base,
      problems: flags.problems ?? (config ? [await configPool(config)] : []),
      out,
      settings,
      sandbox: toSandboxOptions(sandbox, 1),
      dryRun: flags['dry-run'],
      db: flags.db,
      runId: flags.run ?? rlRunId(out),
      flags,
      toolVersion: this.config.version,
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    if (summary.dryRun && !this.jsonEnabled()) {
      for (const line of planLines(summary.steps)) this.log(line)
    } else if (summary.model) {
      const reward = (row?: Record<string, number>) => row?.reward?.toFixed(3) ?? '-'
      this.say(
        `run ${summary.run}: ${summary.model} (reward ${reward(summary.first)} -> ${reward(summary.last)})`,
      )
    }
    this.say(`settings: ${describeSettings(settings)}`)
    return { ...summary, settings: { ...settings, ...sandbox } }
  }
}
