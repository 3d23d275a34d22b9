import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { nonNegativeFlag } from '../cli/number-flags.js'
import { progressRenderer } from '../cli/progress.js'
import { sandboxFlags, toSandboxOptions } from '../cli/sandbox-flags.js'
import { DEFAULT_HINT_POLICY } from '../inference/hint-policy.js'
import { DEFAULT_MATH_PROMPT } from '../inference/run-hint-infer.js'
import { rftRunId, runRft } from '../rft/run-rft.js'

export default class Rft extends BaseCommand {
  static override summary =
    'Rejection-sampling fine-tuning: D_seed -> START-0 (stage 1), self-distillation -> START (stage 2)'

  static override description =
    `Stage 1 fine-tunes --base on D_seed (from start filter) into <out>/start-0/ and exports
<out>/start-0.gguf. Stage 2 lets START-0 sample --samples solutions per --problems problem (hint-infer, hints
off), keeps the correct, deduplicated ones (per-problem and tool-call caps) as <out>/d_start.jsonl, fine-tunes
the base (or START-0 with --from start-0) into <out>/start/ and exports <out>/start.gguf. SFT runs with TRL
through accelerate (loss on the assistant turn only, interpreter output masked), in the project's own
virtualenv (start setup). Each step is skipped on a rerun once its output is there.`

  static override examples = [
    'start rft --stage 1 --base model.gguf --data d_seed.jsonl --out rft/',
    'start rft --stage 2 --base model.gguf --problems train.jsonl --out rft/ --samples 16',
    'start rft --stage 1 --base ./hf-model --data d_seed.jsonl --out rft/ --lora --num-processes 8 --accelerate-config fsdp.yaml',
  ]

  static override flags = {
    stage: Flags.integer({ description: 'which stage', options: ['1', '2'], required: true }),
    base: Flags.string({
      description: 'base model: GGUF file or Hugging Face checkpoint directory',
      required: true,
    }),
    out: Flags.string({
      description: 'directory for the checkpoints, GGUFs, datasets and logs',
      required: true,
    }),
    data: Flags.string({ description: 'stage 1: D_seed chat JSONL (start filter --out)' }),
    problems: Flags.string({ description: 'stage 2: problem pool (JSONL files or globs)', multiple: true }),
    from: Flags.string({
      description: 'stage 2: fine-tune the base or START-0',
      options: ['base', 'start-0'],
      default: 'base',
    }),
    epochs: Flags.string({ description: 'training epochs', default: '3' }),
    'max-steps': Flags.integer({
      description: 'stop after N optimizer steps (0: the epochs decide)',
      default: 0,
      min: 0,
    }),
    lr: Flags.string({ description: 'peak learning rate', default: '1e-5' }),
    schedule: Flags.string({ description: 'learning-rate schedule (transformers names)', default: 'cosine' }),
    'warmup-steps': Flags.integer({ description: 'warm-up steps', default: 0, min: 0 }),
    'batch-size': Flags.integer({ description: 'sequences per device per step', default: 1, min: 1 }),
    'grad-accum': Flags.integer({ description: 'gradient accumulation steps', default: 8, min: 1 }),
    'max-length': Flags.integer({
      description: 'longest training sequence in tokens',
      default: 4096,
      min: 16,
    }),
    packing: Flags.boolean({ description: 'pack sequences into --max-length rows', default: false }),
    lora: Flags.boolean({
      description: 'train a LoRA adapter (merged for export) instead of all weights',
      default: false,
    }),
    'lora-r': Flags.integer({ description: 'LoRA rank', default: 16, min: 1 }),
    'lora-alpha': Flags.integer({ description: 'LoRA alpha', default: 32, min: 1 }),
    'train-seed': Flags.integer({ description: 'training seed', default: 0 }),
    outtype: Flags.string({
      description: 'GGUF tensor type of the exports',
      options: ['f32', 'f16', 'bf16', 'q8_0'],
      default: 'f16',
    }),
    'num-processes': Flags.integer({
      description: 'processes for accelerate launch (GPUs)',
      default: 1,
      min: 1,
    }),
    'accelerate-config': Flags.string({ description: 'accelerate config file (FSDP, several machines)' }),
    samples: Flags.integer({ char: 'k', description: 'stage 2: samples per problem', default: 16, min: 1 }),
    temperature: Flags.string({ description: 'stage 2: sampling temperature', default: '0.6' }),
    'top-p': Flags.string({ description: 'stage 2: nucleus sampling', default: '0.95' }),
    seed: Flags.integer({ description: 'stage 2: sampling seed', default: 0 }),
    hints: Flags.boolean({ description: 'stage 2: sample with hints (off, as START)', default: false }),
    'think-hints': Flags.integer({
      description: 'stage 2 with --hints: hints before the thinking closes',
      default: DEFAULT_HINT_POLICY.thinkHints,
      min: 0,
    }),
    parallel: Flags.integer({
      char: 'p',
      description: 'stage 2: sequences decoded together',
      default: 1,
      min: 1,
    }),
    'max-tokens': Flags.integer({ description: 'stage 2: tokens per sample', default: 4096, min: 1 }),
    'prompt-template': Flags.string({
      description: 'stage 2: user turn; {problem} is replaced',
      default: DEFAULT_MATH_PROMPT,
    }),
    threads: Flags.integer({ description: 'stage 2: CPU threads for sampling', min: 1 }),
    'context-size': Flags.integer({ description: 'stage 2: context per sequence' }),
    'per-problem': Flags.integer({
      description: 'stage 2: most samples kept per problem',
      default: 1,
      min: 1,
    }),
    'max-tool-calls': Flags.integer({
      description: 'stage 2: most tool calls per sample',
      default: 6,
      min: 0,
    }),
    venv: Flags.string({ description: "the trainer's virtualenv (default: start setup's)" }),
    'dry-run': Flags.boolean({
      description: 'print the plan (steps, outputs, what is done) and stop',
      default: false,
    }),
    run: Flags.string({ description: 'run id (default: one per --out and stage, so a rerun resumes)' }),
    ...sandboxFlags,
  }

  async run() {
    const { flags } = await this.parse(Rft)
    const stage = flags.stage as 1 | 2
    const runId = flags.run ?? rftRunId(flags.out, stage)
    const progress = progressRenderer(`rft stage ${stage}`, this.showProgress)
    // Step lines are progress: a terminal gets them, logs and pipes get the summary only.
    const say = (line: string) => {
      if (this.showProgress && process.stderr.isTTY) this.logToStderr(line)
    }
    const summary = await runRft({
      stage,
      base: flags.base,
      out: flags.out,
      data: flags.data,
      problems: flags.problems,
      from: flags.from as 'base' | 'start-0',
      hyper: {
        epochs: nonNegativeFlag('epochs', flags.epochs),
        maxSteps: flags['max-steps'],
        lr: nonNegativeFlag('lr', flags.lr),
        schedule: flags.schedule,
        warmupSteps: flags['warmup-steps'],
        batchSize: flags['batch-size'],
        gradAccum: flags['grad-accum'],
        maxLength: flags['max-length'],
        packing: flags.packing,
        lora: flags.lora ? { r: flags['lora-r'], alpha: flags['lora-alpha'] } : null,
        seed: flags['train-seed'],
      },
      outtype: flags.outtype,
      numProcesses: flags['num-processes'],
      accelerateConfig: flags['accelerate-config'],
      sampling: {
        samples: flags.samples,
        parallel: flags.parallel,
        maxTokens: flags['max-tokens'],
        mathPrompt: flags['prompt-template'],
        threads: flags.threads,
        contextSize: flags['context-size'],
        temperature: nonNegativeFlag('temperature', flags.temperature),
        topP: nonNegativeFlag('top-p', flags['top-p']),
        seed: flags.seed,
        hints: flags.hints ? { ...DEFAULT_HINT_POLICY, thinkHints: flags['think-hints'] } : null,
      },
      selection: { perProblem: flags['per-problem'], maxToolCalls: flags['max-tool-calls'] },
      sandbox: toSandboxOptions(flags, 1),
      env: { venv: flags.venv },
      dryRun: flags['dry-run'],
      db: flags.db,
      runId,
      flags,
      toolVersion: this.config.version,
      onEvent: (event) => {
        if (event.kind === 'step-start') say(`${event.step.id}: ${event.step.description}...`)
        else if (event.kind === 'step-skip') say(`${event.step.id}: done before, skipped`)
        else if (event.kind === 'step-done') {
          progress.end()
          say(`${event.step.id}: done in ${event.seconds.toFixed(1)} s`)
        } else if (event.kind === 'train' && event.event.event === 'log' && event.event.loss !== undefined) {
          progress({
            done: event.event.step,
            total: event.event.maxSteps,
            detail: `loss ${event.event.loss.toFixed(4)}`,
          })
        }
      },
    })
    progress.end()
    if (summary.dryRun && !this.jsonEnabled()) {
      for (const step of summary.steps)
        this.log(`[${step.status}] ${step.id}: ${step.description} -> ${step.outputs.join(', ')}`)
    } else if (summary.model && !this.jsonEnabled()) this.logToStderr(`run ${summary.run}: ${summary.model}`)
    return summary
  }
}
