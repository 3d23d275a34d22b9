import { dirname, join } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { nonNegativeFlag } from '../cli/number-flags.js'
import { progressRenderer } from '../cli/progress.js'
import { newRunId, sandboxFlags, toSandboxOptions } from '../cli/sandbox-flags.js'
import { evalModes, runEval } from '../eval/run-eval.js'
import { DEFAULT_CODE_PROMPT, DEFAULT_MATH_PROMPT } from '../inference/run-hint-infer.js'

export default class Eval extends BaseCommand {
  static override summary =
    'Accuracy of models on benchmarks, with and without tools and hints: pass@1, maj@k, pass@k'

  static override description =
    `Each model (GGUF path, model URI, or the run id of a start rft run) answers each benchmark
--samples times in each mode: no-tools (code is not run), tools (code runs, no hints), and hints-1..N
(code runs, N end-of-thinking hints: START's test-time scaling curve, N up to --think-hints). Answers are
graded as start grade does (code benchmarks in the sandbox). One JSONL row per model x benchmark x mode:
pass@1 (mean over the samples) with a 95% interval, maj@k over equivalent answers, pass@k, tool-use rate,
tool calls, response length and hint efficacy. Rerunning a --run skips the finished rows.`

  static override examples = [
    'start eval --model base.gguf --model rft/start.gguf --benchmarks aime24,math500 --data ../shared/datasets --samples 4 --out eval.jsonl',
    'start eval --model rft-1-runs_rft --benchmarks dev.jsonl --modes no-tools,tools,hints --think-hints 3',
  ]

  static override flags = {
    model: Flags.string({
      char: 'm',
      description: 'model: GGUF, URI or rft run id (repeat for several)',
      required: true,
      multiple: true,
    }),
    benchmarks: Flags.string({
      description: 'benchmark names (with --data) or JSONL files, comma-separated',
      required: true,
    }),
    data: Flags.string({ description: 'folder of <name>.jsonl benchmark files (e.g. ../shared/datasets)' }),
    samples: Flags.integer({
      char: 'k',
      description: 'samples per problem (k of pass@k and maj@k)',
      default: 1,
      min: 1,
    }),
    modes: Flags.string({
      description: 'comma-separated: no-tools, tools, hints',
      default: 'no-tools,tools,hints',
    }),
    'think-hints': Flags.integer({
      description: 'largest number of end-of-thinking hints in the hints modes',
      default: 1,
      min: 1,
    }),
    limit: Flags.integer({ description: 'only the first N problems of each benchmark', min: 1 }),
    out: Flags.string({ char: 'o', description: 'write the result rows (JSONL) here instead of stdout' }),
    traces: Flags.string({ description: 'folder for the trajectories (default: eval-<run> next to --db)' }),
    run: Flags.string({ description: 'run id: resume this run' }),
    temperature: Flags.string({ description: 'sampling temperature', default: '0.6' }),
    'top-p': Flags.string({ description: 'nucleus sampling', default: '0.95' }),
    seed: Flags.integer({ description: 'sampling seed', default: 0 }),
    'max-tokens': Flags.integer({ description: 'tokens per answer', default: 4096, min: 1 }),
    parallel: Flags.integer({ char: 'p', description: 'sequences decoded together', default: 1, min: 1 }),
    threads: Flags.integer({ description: 'CPU threads (default: all cores)', min: 1 }),
    'context-size': Flags.integer({ description: 'context per sequence' }),
    'prompt-template': Flags.string({
      description: 'user turn for math; {problem} is replaced',
      default: DEFAULT_MATH_PROMPT,
    }),
    'code-prompt-template': Flags.string({ description: 'user turn for code', default: DEFAULT_CODE_PROMPT }),
    system: Flags.string({ description: 'system message' }),
    ...sandboxFlags,
  }

  async run() {
    const { flags } = await this.parse(Eval)
    const runId = flags.run ?? newRunId('eval')
    const progress = progressRenderer(`eval ${runId}`, this.showProgress)
    const summary = await runEval({
      models: flags.model,
      benchmarks: flags.benchmarks
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      dataDir: flags.data,
      samples: flags.samples,
      modes: evalModes(
        flags.modes.split(',').map((name) => name.trim()),
        flags['think-hints'],
      ),
      limit: flags.limit,
      tracesDir: flags.traces ?? join(dirname(flags.db), `eval-${runId}`),
      inference: {
        temperature: nonNegativeFlag('temperature', flags.temperature),
        topP: nonNegativeFlag('top-p', flags['top-p']),
        seed: flags.seed,
        maxTokens: flags['max-tokens'],
        parallel: flags.parallel,
        threads: flags.threads,
        contextSize: flags['context-size'],
        mathPrompt: flags['prompt-template'],
        codePrompt: flags['code-prompt-template'],
        system: flags.system,
      },
      sandbox: toSandboxOptions(flags, 2),
      out: flags.out,
      db: flags.db,
      runId,
      flags,
      toolVersion: this.config.version,
      onProgress: progress,
    })
    progress.end()
    if (!this.jsonEnabled()) {
      for (const row of summary.rows) {
        this.logToStderr(
          `${row.model} ${row.benchmark} ${row.mode}: pass@1 ${(row.pass1 * 100).toFixed(1)}% ` +
            `[${(row.pass1Interval[0] * 100).toFixed(1)}, ${(row.pass1Interval[1] * 100).toFixed(1)}], ` +
            `tool use ${(row.toolUseRate * 100).toFixed(0)}%`,
        )
      }
    }
    return { run: summary.run, out: summary.out, units: summary.units, resumed: summary.resumed }
  }
}
