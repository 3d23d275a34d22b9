import { closeSync, createWriteStream, existsSync, openSync, readSync, statSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'
import { ensureLlamaCppSource } from '../core/llama-cpp-source.js'
import { flagName } from '../core/options.js'
import { diesWithParent } from '../core/process-alive.js'
import type { OptimiserStepEvent } from '../runner/events.js'
import { TRAINING_DIR, type TrainingEnv } from './python-env.js'
import type { TrainerChannel } from './trainer-channel.js'
import { eventViolation, type RlEventOf, type TrainerCommand, type TrainerEvent } from './trainer-protocol.js'

const SCRIPT = join(TRAINING_DIR, 'start_trainer.py')
const RL_SCRIPT = join(TRAINING_DIR, 'start_rl.py')
/** Answers of the rollout protocol: every generated piece, too many for the log (the rollouts keep them). */
const ROLLOUT_CHATTER = new Set(['started', 'generated', 'tokenized', 'detokenized', 'ended'])

/** SFT hyper-parameters; `start rft` states the defaults of each flag. */
export interface HyperParameters {
  epochs: number
  /** Stop after this many optimizer steps; 0: run the epochs. */
  maxSteps: number
  lr: number
  schedule: string
  warmupSteps: number
  batchSize: number
  gradAccum: number
  maxLength: number
  packing: boolean
  /** LoRA rank and alpha (merged into the weights for export); null: full fine-tuning. */
  lora: { r: number; alpha: number } | null
  seed: number
}

export interface TrainRequest {
  /** Hugging Face checkpoint to start from. */
  base: string
  /** Chat JSONL (`messages`, optional `outputSpans`). */
  data: string
  /** Where the trained checkpoint goes (written whole or not at all). */
  out: string
  hyper: HyperParameters
  /** Processes for `accelerate launch` (GPUs). Default 1. */
  numProcesses?: number
  /** An accelerate config file (FSDP, DeepSpeed, several machines). */
  accelerateConfig?: string
  /** The trainer's stderr goes here. */
  log: string
}

/** GRPO settings of `start rl`; `RL_OPTIONS` states the defaults. */
export interface RlRequest {
  /** Hugging Face checkpoint of the starting policy. */
  base: string
  /** JSONL of `{id}`: the problems the trainer samples prompts from. */
  problems: string
  /** Where the trained policy goes (written whole or not at all). */
  out: string
  /** Checkpoints, the resume point after a kill. */
  work: string
  maxSteps: number
  lr: number
  numGenerations: number
  promptsPerStep: number
  maxTokens: number
  temperature: number
  topP: number
  beta: number
  clip: number
  /** group: GRPO's group mean; batch: the leave-one-out mean of the whole batch (RLOO over the batch). */
  baseline: 'group' | 'batch'
  saveSteps: number
  seed: number
  /** DAPO's dynamic sampling: groups with one outcome are replaced, for at most `maxSampleRounds` rounds. */
  dynamicSampling: boolean
  maxSampleRounds: number
  /** Each group rolled out this many times over and down-sampled (resample-on-correct). */
  oversample: number
  /** Problems whose pass rate under the starting policy is outside [low, high] are left out; the rates
   * are estimated from `passBandSamples` rollouts each, once, into `passRates`. */
  passBandLow: number
  passBandHigh: number
  passBandSamples: number
  passRates: string
  /** Every `evalEvery` steps (0: never), the held-out problems of `evalProblems` (JSONL of {id}) are
   * rolled out greedily and their pass@1 and tool use join the step's log line as `val.*`. */
  evalEvery: number
  evalProblems: string
  /** A LoRA adapter of this rank and alpha trains instead of every weight (merged into the saved policy). */
  lora: boolean
  loraR: number
  loraAlpha: number
  /** Tokens whose text is one of these end the turn, as EOS does. */
  turnEndMarkers: readonly string[]
  log: string
}

/** A trainer's log line as an optimiser step; the wire format's names stop here. Other lines: undefined. */
export function optimiserStep(
  event: TrainerEvent<'train'> | TrainerEvent<'rl'>,
): OptimiserStepEvent | undefined {
  if (event.event !== 'log') return undefined
  if ('metrics' in event) {
    const { loss, ...metrics } = event.metrics
    return { kind: 'optimiser-step', step: event.step, maxSteps: event.maxSteps, loss, metrics }
  }
  const { step, maxSteps, loss, learning_rate, epoch } = event
  const metrics: Record<string, number> = {}
  if (learning_rate !== undefined) metrics.learningRate = learning_rate
  if (epoch !== undefined) metrics.epoch = epoch
  return { kind: 'optimiser-step', step, maxSteps, loss, metrics }
}

export type LabelDump = Omit<TrainerEvent<'labels'>, 'event'>

/** The trainer engine: every Python the training side runs is spawned here and nowhere else. */
export class TrlTrainer {
  constructor(private readonly env: TrainingEnv) {}

  /** Fine-tunes `base` on `data` into `out`; streams the trainer's events; resolves with the last. */
  async train(request: TrainRequest, onEvent: (event: TrainerEvent<'train'>) => void = () => {}) {
    const { hyper } = request
    const launch = [
      '-m',
      'accelerate.commands.launch',
      ...(request.accelerateConfig
        ? ['--config_file', request.accelerateConfig]
        : ['--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no']),
      '--num_processes',
      String(request.numProcesses ?? 1),
    ]
    const args = [
      ...launch,
      SCRIPT,
      'train',
      ...scriptFlags({
        base: request.base,
        data: request.data,
        out: request.out,
        work: `${request.out}.work`,
        epochs: hyper.epochs,
        maxSteps: hyper.maxSteps,
        lr: hyper.lr,
        schedule: hyper.schedule,
        warmupSteps: hyper.warmupSteps,
        batchSize: hyper.batchSize,
        gradAccum: hyper.gradAccum,
        maxLength: hyper.maxLength,
        seed: hyper.seed,
        packing: hyper.packing,
        lora: hyper.lora !== null,
        loraR: hyper.lora?.r,
        loraAlpha: hyper.lora?.alpha,
      }),
    ]
    let done: Extract<TrainerEvent<'train'>, { event: 'done' }> | undefined
    await this.run('training', 'train', args, request.log, (event) => {
      onEvent(event)
      if (event.event === 'done') done = event
    })
    await rm(`${request.out}.work`, { recursive: true, force: true })
    if (!done) throw new Error(`the trainer ended without saving a model; see ${request.log}`)
    return done
  }

  /**
   * GRPO on `base` with rollouts the caller drives: the trainer asks for them ("rollouts" events) and
   * generates what the caller requests through the link. Resumes from the last checkpoint in `work`.
   */
  async reinforce(request: RlRequest, channel: TrainerChannel, onEvent: (event: TrainerEvent<'rl'>) => void) {
    const { log, ...settings } = request
    const args = [RL_SCRIPT, ...scriptFlags(settings)]
    let done: RlEventOf<'done'> | undefined
    await this.run(
      'RL training',
      'rl',
      args,
      log,
      (event) => {
        if (channel.answer(event)) return
        onEvent(event)
        if (event.event === 'done') done = event
      },
      channel,
    )
    if (!done) throw new Error(`the trainer ended without saving a policy; see ${log}`)
    return done
  }

  /** The tokens and labels `train` would use for one example. */
  async labels(base: string, data: string, index: number, log: string): Promise<LabelDump> {
    let dump: LabelDump | undefined
    await this.run(
      'the label dump',
      'labels',
      [SCRIPT, 'labels', '--base', base, '--data', data, '--index', String(index)],
      log,
      ({ event: _event, ...labels }) => {
        dump = labels
      },
    )
    return dump!
  }

  /** A GGUF base model as a Hugging Face checkpoint (dequantized by transformers' GGUF loader). */
  async ggufToHf(gguf: string, out: string, log: string): Promise<void> {
    await this.run(
      'converting the GGUF base',
      'gguf-to-hf',
      [SCRIPT, 'gguf-to-hf', '--gguf', gguf, '--out', out],
      log,
    )
  }

  /**
   * Exports a checkpoint to GGUF with llama.cpp's convert_hf_to_gguf.py (from node-llama-cpp's bundled
   * source; no network). With `tokenizerFrom`, the base GGUF's tokenizer metadata is copied over, since
   * a SentencePiece vocabulary loses its scores on the trip through Hugging Face.
   */
  async exportGguf(
    checkpoint: string,
    outFile: string,
    options: { outtype: string; tokenizerFrom?: string; log: string },
  ): Promise<void> {
    const source = await ensureLlamaCppSource()
    const partial = `${outFile}.partial`
    await mkdir(dirname(outFile), { recursive: true })
    await this.run(
      'convert_hf_to_gguf.py',
      undefined,
      [join(source, 'convert_hf_to_gguf.py'), checkpoint, '--outtype', options.outtype, '--outfile', partial],
      options.log,
    )
    if (options.tokenizerFrom) {
      await this.run(
        'copying the tokenizer metadata',
        'fix-tokenizer',
        [SCRIPT, 'fix-tokenizer', '--gguf', partial, '--base-gguf', options.tokenizerFrom],
        options.log,
      )
    }
    await rename(partial, outFile)
  }

  /** JSONL records as one parquet file (pyarrow, from the trainer's virtualenv). */
  async writeParquet(jsonl: string, out: string, log: string): Promise<void> {
    await this.run('writing parquet', 'parquet', [SCRIPT, 'parquet', '--jsonl', jsonl, '--out', out], log)
  }

  /**
   * Runs the venv's python; JSON lines on stdout are the `protocol` command's events (each checked against the
   * protocol: a line that breaks it stops the run), the rest goes to the log. A channel, if given, is
   * connected to the process's stdin.
   */
  private async run<C extends TrainerCommand>(
    what: string,
    protocol: C | undefined,
    args: string[],
    log: string,
    onEvent: (event: TrainerEvent<C>) => void = () => {},
    channel?: TrainerChannel,
  ) {
    await mkdir(dirname(log), { recursive: true })
    const logStream = createWriteStream(log, { flags: 'a' })
    // A run killed mid-line leaves a partial last line: the next run's lines start on their own.
    if (!endsWithNewline(log)) logStream.write('\n')
    // The trainer dies with this process: a killed `start rl` or `start export` leaves no writer behind.
    const [command, ...commandArgs] = diesWithParent([this.env.python, ...args])
    const child = execa(command!, commandArgs, {
      reject: false,
      env: { PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false' },
    })
    let lastError = ''
    let failure: { message: string; usage: boolean } | undefined
    let aborted: Error | undefined
    // A trainer that died has a closed stdin: what is still written to it is moot.
    child.stdin?.on('error', () => {})
    const abort = (reason: Error) => {
      aborted ??= reason
      child.kill('SIGTERM')
    }
    channel?.connect((line) => child.stdin?.write(line), abort)
    child.stderr?.pipe(logStream, { end: false })
    child.stderr?.on('data', (chunk: Buffer) => {
      const last = chunk.toString().trim().split('\n').at(-1)?.trim()
      if (last) lastError = last
    })
    for await (const line of createInterface({ input: child.stdout! })) {
      if (!line.startsWith('{"event"')) {
        logStream.write(`${line}\n`)
        continue
      }
      const event = JSON.parse(line) as Record<string, unknown>
      if (!ROLLOUT_CHATTER.has(event.event as string)) logStream.write(`${line}\n`)
      const wrong = protocol && eventViolation(protocol, event)
      if (wrong) abort(new Error(`${what}: the trainer broke its protocol: ${wrong} (log: ${log})`))
      else if (event.event === 'error') failure = event as unknown as typeof failure
      else onEvent(event as TrainerEvent<C>)
    }
    child.stdin?.end()
    const result = await child
    await new Promise((resolve) => logStream.end(resolve))
    if (aborted) throw aborted
    if (result.exitCode !== 0) {
      const reason = failure?.message ?? (lastError || `exit code ${result.exitCode}`)
      // A bad data line ("file:line: what") is the user's to fix.
      if (failure?.usage) throw new UsageError(`${reason} (log: ${log})`)
      throw new Error(`${what} failed: ${reason} (log: ${log})`)
    }
  }
}

/**
 * A script's command-line flags from named values: `maxSteps: 5` is `--max-steps 5`, `packing: true` is
 * `--packing`; false and undefined are left out, lists go as JSON.
 */
function scriptFlags(
  values: Record<string, string | number | boolean | readonly string[] | undefined>,
): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    if (value === undefined || value === false) return []
    const flag = `--${flagName(key)}`
    if (value === true) return [flag]
    return [flag, typeof value === 'object' ? JSON.stringify(value) : String(value)]
  })
}

function endsWithNewline(file: string): boolean {
  if (!existsSync(file)) return true
  const { size } = statSync(file)
  if (size === 0) return true
  const last = Buffer.alloc(1)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, last, 0, 1, size - 1)
  } finally {
    closeSync(fd)
  }
  return last[0] === 0x0a
}

export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'config.json'))
}
