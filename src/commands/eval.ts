import { dirname, join } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand, describeSettings, servedSettings } from '../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../cli/flags.js'
import { UsageError } from '../core/errors.js'
import { newRunId } from '../core/run-id.js'
import { EVAL_OPTIONS } from '../eval/options.js'
import { runEval } from '../eval/run-eval.js'
import { BACKEND_OPTIONS } from '../inference/options.js'
import { pipelineBenchmarks, pipelineModels } from '../pipeline/layout.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'

export default class Eval extends BaseCommand {
  static override summary =
    'Accuracy of models on benchmarks, with and without tools and hints: pass@1, maj@k, pass@k'

  static override description =
    `Each model (GGUF path, model URI, or the run id of a start rft run) answers each benchmark
--samples times in each mode: no-tools (code is not run), tools (code runs, no hints), and hints-1..N
(code runs, N end-of-thinking hints: START's test-time scaling curve, N up to --think-hints). Answers are
graded as start grade does (code benchmarks in the sandbox). One JSONL row per model x benchmark x mode:
pass@1 (mean over the samples) with a 95% interval, maj@k over equivalent answers, pass@k, tool-use rate,
tool calls, code written but not run, response length and hint efficacy. Rerunning a --run skips the
finished rows. --config takes the settings of a pipeline config's eval (and, without --model, its models),
so one flag reproduces the pipeline's numbers. With --backend openai the model the server at --base-url
serves is evaluated (--model then names the GGUF whose chat template renders the prompts, if wanted).`

  static override examples = [
    'start eval --model base.gguf --model rft/start.gguf --benchmarks aime24,math500 --data ../shared/datasets --samples 4 --out eval.jsonl',
    'start eval --model rft-1-runs_rft --benchmarks dev.jsonl --modes no-tools,tools,hints --think-hints 3',
    'start eval --config examples/testbed.config.yaml --model runs/testbed-mini/rft/start.gguf',
  ]

  static override flags = {
    model: Flags.string({
      char: 'm',
      description: 'model: GGUF, URI or rft run id (repeat for several)',
      multiple: true,
    }),
    out: Flags.string({ char: 'o', description: 'write the result rows (JSONL) here instead of stdout' }),
    traces: Flags.string({ description: 'folder for the trajectories (default: eval-<run> next to --db)' }),
    run: Flags.string({ description: 'run id: resume this run' }),
    ...configFlag,
    ...flagsFor(EVAL_OPTIONS),
    ...flagsFor(BACKEND_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(Eval)
    const config = configFrom(flags)
    const at = config && { config, section: 'eval' as const }
    const configured = settingsFrom(EVAL_OPTIONS, flags, at)
    // The pipeline's benchmarks (with swirl's held-out cuts) unless --benchmarks says otherwise.
    const settings =
      config && (flags as { benchmarks?: unknown }).benchmarks === undefined
        ? { ...configured, benchmarks: pipelineBenchmarks(config, configured.benchmarks) }
        : configured
    const sandbox = settingsFrom(SANDBOX_OPTIONS, flags, at)
    const backend = settingsFrom(BACKEND_OPTIONS, flags, at)
    const served = backend.backend === 'openai'
    const models = flags.model ?? (served ? [] : config ? pipelineModels(config) : undefined)
    if (!models) throw new UsageError('--model: required (GGUF, URI or rft run id), or --config')
    const runId = flags.run ?? newRunId('eval')
    const progress = this.progress(`eval ${runId}`, flags)
    const summary = await runEval({
      models,
      settings,
      tracesDir: flags.traces ?? join(dirname(flags.db), `eval-${runId}`),
      sandbox: toSandboxOptions(sandbox, 2),
      backend,
      out: flags.out,
      db: flags.db,
      runId,
      flags,
      toolVersion: this.config.version,
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    for (const row of summary.rows) {
      this.say(
        `${row.model} ${row.benchmark} ${row.mode}: pass@1 ${(row.pass1 * 100).toFixed(1)}% ` +
          `[${(row.pass1Interval[0] * 100).toFixed(1)}, ${(row.pass1Interval[1] * 100).toFixed(1)}], ` +
          `tool use ${(row.toolUseRate * 100).toFixed(0)}%, code not run ${(row.unrunCodeRate * 100).toFixed(0)}%`,
      )
    }
    this.say(`settings: ${describeSettings({ ...settings, ...servedSettings(backend) })}`)
    const { run, out, units, resumed } = summary
    return { run, out, units, resumed, settings: { ...settings, ...sandbox, ...servedSettings(backend) } }
  }
}
