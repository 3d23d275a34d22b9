import type { HintLibrary } from '../hints/library.js'
import {
  type HintPolicy,
  type HintState,
  hintAfterConnective,
  pickHint,
  type Random,
  wantsConnectiveHint,
  wantsThinkHint,
} from '../hints/policy.js'
import type { ExecutionResult } from '../sandbox/types.js'
import type { GenerationStream } from './engine.js'
import { formatOutput } from './format-output.js'
import { decisionStops, detectStopPoint } from './stop-points.js'
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
  /** End after the first code block runs (one step of SWiRL: reasoning plus one tool call). */
  stopAfterToolCall?: boolean
}

/**
 * One Hint-infer trajectory: generate to a stop point, decide, append, continue. Code blocks run
 * and their output is appended; hints go in after connectives and before the thinking closes.
 */
export async function runHintLoop(stream: GenerationStream, runner: () => CodeRunner, options: LoopOptions) {
  const segments: Segment[] = []
  /** The texts of the model tokens since the last insertion, for retracting a closing tag. */
  let recentPieces: string[] = []
  let text = ''
  let thinking = options.startsThinking
  let toolCalls = 0
  let code: CodeRunner | undefined
  const state: HintState = { connectiveHints: 0, thinkHints: 0, lastHintAt: Number.NEGATIVE_INFINITY }
  let finishReason: FinishReason = 'stop'

  const add = (kind: Segment['kind'], piece: string, extra: Omit<Segment, 'kind' | 'text'> = {}) => {
    const last = segments[segments.length - 1]
    if (kind === 'model' && last?.kind === 'model') last.text += piece
    else segments.push({ kind, text: piece, ...extra })
    text += piece
  }
  const insert = (kind: 'hint' | 'output', inserted: string, extra: Omit<Segment, 'kind' | 'text'>) => {
    stream.append(inserted)
    add(kind, inserted, extra)
    recentPieces = []
  }
  const used = () => stream.stats.generatedTokens + stream.stats.appendedTokens
  /** Puts a hint where the model was about to end its thinking, after `before` (text it keeps). */
  const insertThinkHint = (hints: NonNullable<LoopOptions['hints']>, before: string) => {
    const hint = pickHint(hints.library, options.domain, hints.random)
    state.thinkHints++
    state.lastHintAt = text.length
    insert('hint', `${before}${hint.text}\n`, {
      hint: { id: hint.id, category: hint.category, trigger: 'think-end' },
    })
  }

  for (;;) {
    if (used() >= options.maxTokens) {
      finishReason = 'length'
      break
    }
    if (stream.remaining <= 1) {
      finishReason = 'context'
      break
    }
    const hints = options.hints
    stream.setPlan?.({
      stops: decisionStops(text, {
        thinkEnd: thinking && hints !== null && wantsThinkHint(hints.policy, state),
        connectives:
          hints && state.connectiveHints < hints.policy.maxConnectiveHints ? hints.policy.connectives : [],
        code: toolCalls < options.maxToolCalls,
      }),
      maxTokens: options.maxTokens - used(),
    })
    const piece = await stream.next()
    if (piece === null) {
      // A model without <think> ends its turn where a thinking model would close its thinking.
      if (hints && !options.startsThinking && wantsThinkHint(hints.policy, state)) {
        await stream.retract(1)
        insertThinkHint(hints, text.endsWith('\n') ? '' : '\n')
        continue
      }
      break
    }
    const stop = detectStopPoint(text, piece, {
      connectives: hints?.policy.connectives ?? [],
      thinking,
    })
    if (stop?.kind === 'think-end' && hints && wantsThinkHint(hints.policy, state)) {
      // Take back the tokens that began the closing tag, keep the text before it, add the hint.
      let cut = text.length // the piece itself is not in the text yet
      let count = 1
      while (cut > stop.tagStart && recentPieces.length > 0) {
        cut -= recentPieces.pop()!.length
        count++
      }
      if (cut <= stop.tagStart) {
        await stream.retract(count)
        const kept = (text + piece).slice(cut, stop.tagStart)
        dropTail(segments, text.length - cut)
        text = text.slice(0, cut)
        if (kept) {
          stream.append(kept)
          add('model', kept)
        }
        insertThinkHint(hints, '')
        continue
      }
    }
    add('model', piece)
    recentPieces.push(piece)
    if (recentPieces.length > 64) recentPieces.shift()
    // A served engine's piece is many tokens: the tags may be anywhere in it.
    const window = text.slice(-piece.length - 8)
    const opened = window.lastIndexOf('<think>')
    const closed = window.lastIndexOf('</think>')
    if (closed > opened) thinking = false
    else if (opened > closed && !options.startsThinking) thinking = true
    if (stop?.kind === 'code' && toolCalls < options.maxToolCalls) {
      toolCalls++
      code ??= runner()
      const result = await code.execute(stop.code)
      const output = formatOutput(result, options.maxOutputChars)
      insert('output', `${text.endsWith('\n') ? '' : '\n'}${output}`, {
        execution: { code: stop.code, ...result },
      })
      if (options.stopAfterToolCall) {
        finishReason = 'tool-call'
        break
      }
    } else if (
      stop?.kind === 'connective' &&
      hints &&
      wantsConnectiveHint(hints.policy, state, text.length, hints.random)
    ) {
      const hint = pickHint(hints.library, options.domain, hints.random)
      state.connectiveHints++
      state.lastHintAt = text.length
      insert('hint', hintAfterConnective(hint, hints.policy.connectives, stop.boundary), {
        hint: { id: hint.id, category: hint.category, trigger: 'connective', word: stop.word },
      })
    }
  }
  return { text, segments, toolCalls, finishReason, stats: { ...stream.stats } } satisfies TrajectoryResult
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
