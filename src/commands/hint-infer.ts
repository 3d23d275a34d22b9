import { Args, Flags } from '@oclif/core'
import { BaseCommand, describeSettings, servedSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { UsageError } from '../core/errors.js'
import { newRunId } from '../core/run-id.js'
import { BACKEND_OPTIONS, HINT_INFER_OPTIONS } from '../inference/options.js'
import { runHintInfer } from '../inference/run-hint-infer.js'
import { configProblems } from '../pipeline/layout.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'

export default class HintInfer extends BaseCommand {
  static override summary =
    "START's Hint-infer: sample reasoning with hints inserted at stop points and Python run in the loop"

  static override description =
    `Each problem is sampled --samples times. When the model closes a \`\`\`python block the code runs in
the sandbox (one session per trajectory) and its output is appended as an \`\`\`output block. Hints from the
hint library go in after connectives ("Wait", "Alternatively", ...) and just before the model closes its
thinking (--think-hints times). Trajectories go to the store and to JSONL; rerunning a --run resumes it.
With --backend openai the model runs on a server (vLLM, SGLang, llama-server) at --base-url: one raw
completion request per segment, stopped where the loop decides, with the same records and resume.
With --config, the settings (and, when not given, the model and problems) come from a pipeline config.`

  static override examples = [
    'start hint-infer ../shared/datasets/math500.jsonl --model model.gguf --samples 4 --out traj.jsonl',
    'start hint-infer problems.jsonl --model hf:user/repo:Q4_K_M --parallel 8 --no-hints --out plain.jsonl',
    'start hint-infer --config examples/testbed.config.yaml --out hinted.jsonl',
    'start hint-infer math500.jsonl --backend openai --base-url http://gpu-box:8000 --concurrency 64 --chat-template qwq.jinja --samples 16 --out traj.jsonl',
  ]

  static override strict = false

  static override args = {
    problems: Args.string({ description: 'problem JSONL files or globs (- for stdin)', ignoreStdin: true }),
  }

  static override flags = {
    model: Flags.string({
      char: 'm',
      description:
        'GGUF path or model URI (hf:user/repo:quant); with --backend openai, a GGUF for the chat template',
    }),
    out: Flags.string({
      char: 'o',
      description: 'write trajectories as JSONL here (atomically) instead of stdout',
    }),
    run: Flags.string({ description: 'run id: resume this run (default: a new one)' }),
    ...configFlag,
    ...flagsFor(HINT_INFER_OPTIONS),
    ...flagsFor(BACKEND_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { argv, flags } = await this.parse(HintInfer)
    const config = configFrom(flags)
    const at = config && { config, section: 'hintInfer' as const }
    const settings = settingsFrom(HINT_INFER_OPTIONS, flags, at)
    const sandbox = settingsFrom(SANDBOX_OPTIONS, flags, at)
    const backend = settingsFrom(BACKEND_OPTIONS, flags, at)
    const model = flags.model ?? config?.model
    if (!model && backend.backend === 'llama-cpp')
      throw new UsageError('--model: required (a GGUF path or model URI), or --config with a model')
    const problems =
      argv.length > 0 ? (argv as string[]) : config ? [await configProblems(config)] : undefined
    if (!problems)
      throw new UsageError('PROBLEMS: give problem JSONL files or globs (- for stdin), or --config')
    const runId = flags.run ?? newRunId('hint-infer')
    const progress = this.progress(`hint-infer ${runId}`, flags)
    const summary = await runHintInfer({
      problems,
      model,
      settings,
      backend,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, problems },
      toolVersion: this.config.version,
      sandbox: toSandboxOptions(sandbox, 1),
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    this.say(
      `run ${summary.run}: ${summary.trajectories} trajectories (${summary.resumed} resumed, ${summary.failed} failed), ` +
        `${summary.toolCalls} tool calls, ${summary.hints} hints, ${summary.answered} answered, ` +
        `${summary.tokensPerSecond.toFixed(0)} tok/s\nsettings: ${describeSettings({ model, ...settings, ...servedSettings(backend) })}`,
    )
    return { ...summary, settings: { ...summary.settings, ...sandbox, ...servedSettings(backend) } }
  }
}
