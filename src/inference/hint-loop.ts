import type { HintLibrary, HintValues } from '../hints/library.js'
import {
  type HintPoint,
  type HintPolicy,
  type HintState,
  hintInsertion,
  pickHint,
  type Random,
  wantsConnectiveHint,
  wantsThinkHint,
} from '../hints/policy.js'
import type { ExecutionResult } from '../sandbox/types.js'
import type { GenerationStream } from './engine.js'
import { formatOutput, type OutputTokenLimit } from './format-output.js'
import { decisionStops, detectStopPoint, type StopPoint } from './stop-points.js'
import type { FinishReason, Segment, TrajectoryResult } from './types.js'

/** Where the loop runs code: a session, so later blocks see earlier variables. */
export interface CodeRunner {
  execute(code: string): Promise<ExecutionResult>
}

export interface LoopOptions {
  /** Hints on (a policy) or off (null: the plain model, code still runs). */
  hints: { policy: HintPolicy; library: HintLibrary; random: Random } | null
  domain: 'math' | 'code'
  /** Whether the prompt left the model inside <think>. */
  startsThinking: boolean
  /** Tokens after the prompt (generated and appended). */
  maxTokens: number
  /** Code blocks run per trajectory; later ones are left as text. Default 6, as START. */
  maxToolCalls: number
  /** Characters of an execution's output shown to the model. */
  maxOutputChars: number
  /** Tokens of an execution's output shown to the model, counted by its tokenizer, and where they are cut. */
  outputTokens?: OutputTokenLimit
  /** End after the first code block runs (one step of SWiRL: reasoning plus one tool call). */
  stopAfterToolCall?: boolean
  /** What a hint's placeholders are filled with here (`{tests}`: the problem's sample tests). */
  hintValues?: HintValues
  /**
   * End where the first hint would go, without it (`start hints evolve` continues from there with each
   * hint it compares): the result's `hintPoint` says where and how.
   */
  stopAtHint?: boolean
}

/**
 * One Hint-infer trajectory: generate to a stop point, decide, append, continue. Code blocks run
 * and their output is appended; hints go in after connectives and before the thinking closes.
 */
export async function runHintLoop(
  stream: GenerationStream,
  runner: () => CodeRunner,
  options: LoopOptions,
): Promise<TrajectoryResult> {
  return new HintLoop(stream, runner, options).run()
}

type Hints = NonNullable<LoopOptions['hints']>

/** One trajectory's state while the loop runs: its text and segments, the hints given, the code run. */
class HintLoop {
  private readonly segments: Segment[] = []
  /** The texts of the model tokens since the last insertion, for retracting a closing tag. */
  private recentPieces: string[] = []
  private text = ''
  private thinking: boolean
  private toolCalls = 0
  private code: CodeRunner | undefined
  private readonly state: HintState = {
    connectiveHints: 0,
    thinkHints: 0,
    lastHintAt: Number.NEGATIVE_INFINITY,
  }
  private readonly hints: Hints | null
  /** With `stopAtHint`: where the first hint would have gone. */
  private hintPoint: HintPoint | undefined

  constructor(
    private readonly stream: GenerationStream,
    private readonly runner: () => CodeRunner,
    private readonly options: LoopOptions,
  ) {
    this.thinking = options.startsThinking
    this.hints = options.hints
  }

  async run(): Promise<TrajectoryResult> {
    const { stream, options } = this
    let finishReason: FinishReason = 'stop'
    for (;;) {
      const limit = this.limitReached()
      if (limit) {
        finishReason = limit
        break
      }
      if (this.hintPoint) {
        finishReason = 'hint-point'
        break
      }
      this.planNext()
      const piece = await stream.next()
      if (piece === null) {
        if (await this.hintAtTurnEnd()) continue
        break
      }
      const stop = detectStopPoint(this.text, piece, {
        connectives: this.hints?.policy.connectives ?? [],
        thinking: this.thinking,
      })
      if (stop?.kind === 'think-end' && (await this.hintBeforeClosingTag(stop, piece))) continue
      this.take(piece)
      if (stop?.kind === 'code' && this.toolCalls < options.maxToolCalls) {
        await this.runCode(stop.code)
        if (options.stopAfterToolCall) {
          finishReason = 'tool-call'
          break
        }
      } else if (stop?.kind === 'connective') this.hintAfterConnective(stop)
    }
    const { text, segments, toolCalls } = this
    const hintPoint = this.hintPoint && { ...this.hintPoint, thinking: this.thinking }
    return { text, segments, toolCalls, finishReason, stats: { ...stream.stats }, hintPoint }
  }

  private get used(): number {
    return this.stream.stats.generatedTokens + this.stream.stats.appendedTokens
  }

  private limitReached(): FinishReason | undefined {
    if (this.used >= this.options.maxTokens) return 'length'
    if (this.stream.remaining <= 1) return 'context'
    return undefined
  }

  /** Tells the engine where the loop decides next: the stop strings that matter now, and the budget left. */
  private planNext(): void {
    const { hints, state, options } = this
    this.stream.setPlan?.({
      stops: decisionStops(this.text, {
        thinkEnd: this.thinking && hints !== null && wantsThinkHint(hints.policy, state),
        connectives:
          hints && state.connectiveHints < hints.policy.maxConnectiveHints ? hints.policy.connectives : [],
        code: this.toolCalls < options.maxToolCalls,
      }),
      maxTokens: options.maxTokens - this.used,
    })
  }

  private add(kind: Segment['kind'], piece: string, extra: Omit<Segment, 'kind' | 'text'> = {}): void {
    const last = this.segments[this.segments.length - 1]
    if (kind === 'model' && last?.kind === 'model') last.text += piece
    else this.segments.push({ kind, text: piece, ...extra })
    this.text += piece
  }

  private insert(kind: 'hint' | 'output', inserted: string, extra: Omit<Segment, 'kind' | 'text'>): void {
    this.stream.append(inserted)
    this.add(kind, inserted, extra)
    this.recentPieces = []
  }

  /** A model piece joins the text; the thinking state follows the tags in it. */
  private take(piece: string): void {
    this.add('model', piece)
    this.recentPieces.push(piece)
    if (this.recentPieces.length > 64) this.recentPieces.shift()
    // A served engine's piece is many tokens: the tags may be anywhere in it.
    const window = this.text.slice(-piece.length - 8)
    const opened = window.lastIndexOf('<think>')
    const closed = window.lastIndexOf('</think>')
    if (closed > opened) this.thinking = false
    else if (opened > closed && !this.options.startsThinking) this.thinking = true
  }

  /** Puts a hint at `point` (or, with `stopAtHint`, marks the point and inserts nothing). */
  private insertHint(hints: Hints, point: HintPoint): void {
    const hint = pickHint(hints.library, this.options.domain, hints.random, this.options.hintValues)
    if (point.trigger === 'connective') this.state.connectiveHints++
    else this.state.thinkHints++
    this.state.lastHintAt = this.text.length
    if (this.options.stopAtHint) {
      this.hintPoint = point
      return
    }
    const where =
      point.trigger === 'connective'
        ? { trigger: point.trigger, word: point.word }
        : { trigger: point.trigger }
    this.insert('hint', hintInsertion(point, hint, hints.policy.connectives, this.options.hintValues), {
      hint: { id: hint.id, category: hint.category, ...where },
    })
  }

  /** A model without <think> ends its turn where a thinking model would close its thinking: hint there. */
  private async hintAtTurnEnd(): Promise<boolean> {
    const { hints } = this
    if (!hints || this.options.startsThinking || !wantsThinkHint(hints.policy, this.state)) return false
    await this.stream.retract(1)
    this.insertHint(hints, { trigger: 'think-end', before: this.text.endsWith('\n') ? '' : '\n' })
    return true
  }

  /** Takes back the tokens that began the closing tag, keeps the text before it, adds the hint. */
  private async hintBeforeClosingTag(
    stop: Extract<StopPoint, { kind: 'think-end' }>,
    piece: string,
  ): Promise<boolean> {
    const { hints, text } = this
    if (!hints || !wantsThinkHint(hints.policy, this.state)) return false
    let cut = text.length // the piece itself is not in the text yet
    let count = 1
    while (cut > stop.tagStart && this.recentPieces.length > 0) {
      cut -= this.recentPieces.pop()!.length
      count++
    }
    if (cut > stop.tagStart) return false
    await this.stream.retract(count)
    const kept = (text + piece).slice(cut, stop.tagStart)
    dropTail(this.segments, text.length - cut)
    this.text = text.slice(0, cut)
    if (kept) {
      this.stream.append(kept)
      this.add('model', kept)
    }
    this.insertHint(hints, { trigger: 'think-end', before: '' })
    return true
  }

  private async runCode(code: string): Promise<void> {
    this.toolCalls++
    this.code ??= this.runner()
    const result = await this.code.execute(code)
    const output = await formatOutput(result, this.options.maxOutputChars, this.options.outputTokens)
    this.insert('output', `${this.text.endsWith('\n') ? '' : '\n'}${output}`, {
      execution: { code, ...result },
    })
  }

  private hintAfterConnective(stop: Extract<StopPoint, { kind: 'connective' }>): void {
    const { hints, state } = this
    if (!hints || !wantsConnectiveHint(hints.policy, state, this.text.length, hints.random)) return
    this.insertHint(hints, { trigger: 'connective', word: stop.word, boundary: stop.boundary })
  }
}

/** Removes the last `chars` characters from the trailing model segments. */
function dropTail(segments: Segment[], chars: number): void {
  while (chars > 0) {
    const last = segments[segments.length - 1]
    if (!last) return
    if (last.text.length > chars) {
      last.text = last.text.slice(0, last.text.length - chars)
      return
    }
    chars -= last.text.length
    segments.pop()
  }
}
