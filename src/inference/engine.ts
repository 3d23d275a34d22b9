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
}

/** One generation in progress. The loop pulls one token's text at a time and may add text between them. */
export interface GenerationStream {
  /** The next token's text, or null when the model ends its turn. It joins the context on the next call. */
  next(): Promise<string | null>
  /** Drops the last `count` generated tokens (the one just returned included) from the context. */
  retract(count: number): Promise<void>
  /** Adds text after what the context holds; generation continues after it. Returns its token count. */
  append(text: string): number
  /** Tokens the context can still take. */
  readonly remaining: number
  readonly stats: StreamStats
  close(): Promise<void>
}

export interface InferenceEngine {
  readonly modelName: string
  /** The model's own chat template, with the generation prompt. */
  renderPrompt(messages: ChatMessage[]): string
  startGeneration(prompt: string, sampling: Sampling): Promise<GenerationStream>
  close(): Promise<void>
}

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
