import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { nonNegativeFlag } from '../cli/number-flags.js'
import { progressRenderer } from '../cli/progress.js'
import { newRunId, sandboxFlags, toSandboxOptions } from '../cli/sandbox-flags.js'
import { DEFAULT_HINT_POLICY } from '../inference/hint-policy.js'
import {
  DEFAULT_CODE_PROMPT,
  DEFAULT_MATH_PROMPT,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_TOOL_CALLS,
  runHintInfer,
} from '../inference/run-hint-infer.js'

export default class HintInfer extends BaseCommand {
  static override summary =
    "START's Hint-infer: sample reasoning with hints inserted at stop points and Python run in the loop"

  static override description =
    `Each problem is sampled --samples times. When the model closes a \`\`\`python block the code runs in
the sandbox (one session per trajectory) and its output is appended as an \`\`\`output block. Hints from the
hint library go in after connectives ("Wait", "Alternatively", ...) and just before the model closes its
thinking (--think-hints times). Trajectories go to the store and to JSONL; rerunning a --run resumes it.`

  static override examples = [
    'start hint-infer ../shared/datasets/math500.jsonl --model model.gguf --samples 4 --out traj.jsonl',
    'start hint-infer problems.jsonl --model hf:user/repo:Q4_K_M --parallel 8 --no-hints --out plain.jsonl',
  ]

  static override strict = false

  static override args = {
    problems: Args.string({
      description: 'problem JSONL files or globs (- for stdin)',
      required: true,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    model: Flags.string({
      char: 'm',
      description: 'GGUF path or model URI (hf:user/repo:quant)',
      required: true,
    }),
    out: Flags.string({
      char: 'o',
      description: 'write trajectories as JSONL here (atomically) instead of stdout',
    }),
    run: Flags.string({ description: 'run id: resume this run (default: a new one)' }),
    samples: Flags.integer({ char: 'k', description: 'samples per problem', default: 1, min: 1 }),
    parallel: Flags.integer({
      char: 'p',
      description: 'sequences decoded together in one context',
      default: 1,
      min: 1,
    }),
    temperature: Flags.string({ description: 'sampling temperature (0 = greedy)', default: '0.6' }),
    'top-p': Flags.string({ description: 'nucleus sampling', default: '0.95' }),
    seed: Flags.integer({ description: 'seed for sampling and hint choices', default: 0 }),
    'no-hints': Flags.boolean({ description: 'plain model: no hints (code still runs)', default: false }),
    hints: Flags.string({ description: 'hint library JSON (default: hint-library/start.json)' }),
    'think-hints': Flags.integer({
      description: 'hints before the thinking closes',
      default: DEFAULT_HINT_POLICY.thinkHints,
      min: 0,
    }),
    'connective-hints': Flags.integer({
      description: 'hints after connectives',
      default: DEFAULT_HINT_POLICY.maxConnectiveHints,
      min: 0,
    }),
    connectives: Flags.string({
      description: 'comma-separated connectives',
      default: DEFAULT_HINT_POLICY.connectives.join(','),
    }),
    'hint-probability': Flags.string({
      description: 'chance an eligible connective gets a hint',
      default: '1',
    }),
    'hint-distance': Flags.integer({
      description: 'characters between connective hints',
      default: DEFAULT_HINT_POLICY.minDistance,
      min: 0,
    }),
    'max-tokens': Flags.integer({
      description: 'tokens per trajectory after the prompt',
      default: 4096,
      min: 1,
    }),
    'max-tool-calls': Flags.integer({
      description: 'code blocks run per trajectory',
      default: DEFAULT_MAX_TOOL_CALLS,
      min: 0,
    }),
    'max-output-chars': Flags.integer({
      description: 'characters of an execution output shown to the model',
      default: DEFAULT_MAX_OUTPUT_CHARS,
      min: 16,
    }),
    'prompt-template': Flags.string({
      description: 'user turn for math problems; {problem} is replaced',
      default: DEFAULT_MATH_PROMPT,
    }),
    'code-prompt-template': Flags.string({
      description: 'user turn for code problems',
      default: DEFAULT_CODE_PROMPT,
    }),
    system: Flags.string({ description: 'system message' }),
    'context-size': Flags.integer({
      description: 'context per sequence (default: the model training context, at most 8192)',
    }),
    threads: Flags.integer({ description: 'CPU threads (default: all cores)', min: 1 }),
    'skip-invalid': Flags.boolean({ description: 'report and skip bad problem lines', default: false }),
    ...sandboxFlags,
  }

  async run() {
    const { args, argv, flags } = await this.parse(HintInfer)
    const runId = flags.run ?? newRunId('hint-infer')
    const progress = progressRenderer(`hint-infer ${runId}`, this.showProgress)
    const summary = await runHintInfer({
      problems: argv.length > 0 ? (argv as string[]) : [args.problems],
      model: flags.model,
      parallel: flags.parallel,
      samples: flags.samples,
      sampling: {
        temperature: nonNegativeFlag('temperature', flags.temperature),
        topP: nonNegativeFlag('top-p', flags['top-p']),
        seed: flags.seed,
      },
      hints: flags['no-hints']
        ? null
        : {
            file: flags.hints,
            policy: {
              connectives: flags.connectives
                .split(',')
                .map((word) => word.trim())
                .filter(Boolean),
              maxConnectiveHints: flags['connective-hints'],
              minDistance: flags['hint-distance'],
              probability: nonNegativeFlag('hint-probability', flags['hint-probability']),
              thinkHints: flags['think-hints'],
            },
          },
      maxTokens: flags['max-tokens'],
      maxToolCalls: flags['max-tool-calls'],
      maxOutputChars: flags['max-output-chars'],
      mathPrompt: flags['prompt-template'],
      codePrompt: flags['code-prompt-template'],
      system: flags.system,
      contextSize: flags['context-size'],
      threads: flags.threads,
      skipInvalid: flags['skip-invalid'],
      onInvalid: (message) => this.warn(message),
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, problems: argv },
      toolVersion: this.config.version,
      sandbox: toSandboxOptions(flags, 1),
      onProgress: progress,
    })
    progress.end()
    if (!this.jsonEnabled()) {
      this.logToStderr(
        `run ${summary.run}: ${summary.trajectories} trajectories (${summary.resumed} resumed), ${summary.toolCalls} tool calls, ` +
          `${summary.hints} hints, ${summary.answered} answered, ${summary.tokensPerSecond.toFixed(0)} tok/s`,
      )
    }
    return summary
  }
}
