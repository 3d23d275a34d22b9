/** What the hint-infer loop needs from a model, whatever runs it. */

export interface Sampling {
  /** 0 means greedy. */
  temperature: number
  topP: number
  seed: number
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

/** Token counts that prove the prefix is never evaluated twice. */
export interface StreamStats {
  promptTokens: number
  generatedTokens: number
  /** Tokens put into the context by the loop: hints and code outputs. */
  appendedTokens: number
  /** Input tokens the engine evaluated beyond the prompt and the appended ones: 0 when the KV cache is reused. */
  reevaluatedTokens: number
  /** Prompt tokens not evaluated at all: their KV kept from an earlier generation (`reusePrefix`). */
  reusedTokens?: number
}

export interface GenerationOptions {
  /**
   * Keep the KV of the longest prefix this prompt shares with an earlier generation's context instead of
   * evaluating it again (many continuations of one prefix: `start hints evolve`). A server does this
   * itself (prefix caching); in process the numbers may differ from a fresh evaluation in the last bits,
   * so it is asked for, not done always.
   */
  reusePrefix?: boolean
  /**
   * Text after the rendered prompt that generation continues from: a trajectory's text so far (a
   * prefix under `start hints evolve`, a state under the counterfactual judge or stepwise `start rl`). It is
   * tokenized as the loop's appended text is, never parsed for special tokens: a chat marker a cell
   * printed stays the text it was when the loop appended it, and cannot end a turn or forge one.
   */
  continuation?: string
}

/** Where the loop will decide next, and the tokens it may still take. */
export interface StreamPlan {
  /** Strings after which the loop may act (a code fence, the end of thinking, connectives). */
  stops: readonly string[]
  maxTokens: number
}

/** One generation in progress. The loop pulls one token's text at a time and may add text between them. */
export interface GenerationStream {
  /** The next token's text, or null when the model ends its turn. It joins the context on the next call. */
  next(): Promise<string | null>
  /** Drops the last `count` generated tokens (the one just returned included) from the context. */
  retract(count: number): Promise<void>
  /** Adds text after what the context holds; generation continues after it. Returns its token count. */
  append(text: string): number
  /**
   * Told before each `next()` by the loop. An engine that generates many tokens per request (a server)
   * stops at these strings; one that yields token by token needs no plan.
   */
  setPlan?(plan: StreamPlan): void
  /** Tokens the context can still take. */
  readonly remaining: number
  readonly stats: StreamStats
  close(): Promise<void>
}

/** The model's own tokenizer, for limits counted in tokens (a tool output's `--max-tool-output-tokens`). */
export interface TextTokenizer {
  /** `text` as the model would continue a context with it (no special tokens parsed, none added). */
  encode(text: string): Promise<number[]>
  decode(tokens: number[]): Promise<string>
}

/**
 * The tokens of a text tokenized after a newline (`tokens`), with the newline's own (`newline`) cut off:
 * a text's tokens as a continuation of a context, the tokens the whole text has in training (and on a
 * server, which tokenizes prompt + text at once). Tokenized alone, a SentencePiece vocabulary would open
 * it with a space-prefix "▁" at every seam; after a newline no word starts. Undefined when the newline's
 * tokens do not open `tokens` (a vocabulary that merges the newline with what follows).
 */
export function afterNewline<T>(newline: readonly T[], tokens: readonly T[]): T[] | undefined {
  return newline.length > 0 && newline.every((token, i) => tokens[i] === token)
    ? tokens.slice(newline.length)
    : undefined
}

export interface InferenceEngine {
  readonly modelName: string
  /** The model's own chat template, with the generation prompt. */
  renderPrompt(messages: ChatMessage[]): string
  readonly tokenizer: TextTokenizer
  startGeneration(prompt: string, sampling: Sampling, options?: GenerationOptions): Promise<GenerationStream>
  close(): Promise<void>
}

/** Chat markers of the common templates that end an assistant turn in text form. */
export const TURN_END_MARKERS = [
  '<|end|>',
  '<|im_end|>',
  '<|eot_id|>',
  '<｜end▁of▁sentence｜>',
  '<end_of_turn>',
]

/** No tokenizer averages more characters per token than this: a longer prompt cannot fit, uncounted. */
export const MAX_CHARS_PER_TOKEN = 32

/** A prompt that does not fit the context: that record fails at once, the run goes on. */
export class PromptTooLongError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
    detail: string,
  ) {
    super(`the prompt (${detail}) does not fit the context of ${contextSize} tokens`)
    this.name = 'PromptTooLongError'
  }
}
