import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { flagsFor, settingsFrom } from '../cli/flags.js'
import { UsageError } from '../core/errors.js'
import { STDIN } from '../core/jsonl.js'
import { BACKEND_OPTIONS } from '../inference/options.js'
import { JUDGE_OPTIONS } from '../swirl/options.js'
import { runJudge } from '../swirl/run-judge.js'

export default class Judge extends BaseCommand {
  static override summary =
    "Judge each step of start steps: reasonable given its state (SWiRL's process judge), or a right final answer"

  static override description =
    `Each record comes back with "judgements": {<rubric>: {judge, verdict: yes|no|unjudged, reasons}}; judging
again with another rubric adds to it. A trajectory's steps must be together and in order, as start steps writes them (else file:line, exit 2).

--judge rules (offline; no model, no gold answer; the process rubric): a step that calls a tool is
reasonable when its code ran, its output is used later in the trajectory, and it does not repeat an earlier
code block; the final step when it gives a boxed answer that is what the last output printed (when there was one).

--judge model: a judge model (--model GGUF in this process, or --backend openai at --base-url) answers a
rubric, a data file: process (rubrics/process.json: is this step reasonable and useful given its state; every
step) or outcome (rubrics/outcome.json: is the final answer right, with the reference when the record has one;
the final step, its verdict for every step of the trajectory), or your own file in their format. The verdict is
read from the judge's last line matching the rubric's pattern; an answer without one (or cut off, or still
thinking) is "unjudged", never yes, and the judge's text is kept. Verdicts are stored as they come: rerunning
the --run judges only the rest. Code the judge writes is never run.`

  static override examples = [
    'start judge steps.jsonl --judge rules --out judged.jsonl',
    'start judge steps.jsonl --judge model --model qwen2.5-7b-instruct-q4_k_m.gguf --parallel 4 --out judged.jsonl',
    'start judge steps.jsonl --judge model --rubric outcome --backend openai --base-url http://gpu-box:8000 --concurrency 64 --out judged.jsonl',
    'start judge steps.jsonl --judge counterfactual --model start-0.gguf --temperature 0.6 --k 4 --ablate empty --out judged.jsonl',
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'step JSONL files or globs (- for stdin)',
      default: STDIN,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    model: Flags.string({
      char: 'm',
      description:
        'the judge model: GGUF path or model URI (--judge model); with --backend openai, a GGUF for the chat template',
    }),
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    run: Flags.string({ description: 'run id: resume this run (default: a new one)' }),
    ...flagsFor(JUDGE_OPTIONS),
    ...flagsFor(BACKEND_OPTIONS),
  }

  async run() {
    const { args, argv, flags } = await this.parse(Judge)
    const inputs = argv.length > 0 ? (argv as string[]) : [args.inputs]
    const settings = settingsFrom(JUDGE_OPTIONS, flags)
    const backend = settingsFrom(BACKEND_OPTIONS, flags)
    if (settings.judge !== 'rules' && !flags.model && backend.backend === 'llama-cpp') {
      throw new UsageError(
        `--judge ${settings.judge}: needs --model (a GGUF path or model URI) or --backend openai`,
      )
    }
    const { options, progress } = this.streamingStage('judge', inputs, flags)
    const summary = await runJudge({
      ...options,
      settings,
      backend,
      model: flags.model,
    })
    progress.end()
    this.say(
      `run ${summary.run}: ${summary.rubric} by ${summary.judge}: ${summary.yes} yes, ${summary.no} no, ${summary.unjudged} unjudged of ${summary.steps} steps` +
        (summary.continuations > 0 ? `, ${summary.continuations} continuations` : '') +
        (summary.generatedTokens > 0 ? ` (${summary.tokensPerSecond.toFixed(1)} tokens/s)` : ''),
    )
    return summary
  }
}
