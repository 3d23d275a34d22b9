/**
 * The node-llama-cpp engine: the only file that imports node-llama-cpp. One model, one context
 * with `parallel` sequences decoded together in shared batches.
 */
import { availableParallelism } from 'node:os'
import { Template } from '@huggingface/jinja'
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  readGgufFileInfo,
  resolveModelFile,
  type Token,
} from 'node-llama-cpp'
import { UsageError } from '../core/errors.js'
import {
  afterNewline,
  type ChatMessage,
  type GenerationOptions,
  type GenerationStream,
  type InferenceEngine,
  MAX_CHARS_PER_TOKEN,
  PromptTooLongError,
  type Sampling,
  type StreamStats,
  type TextTokenizer,
  TURN_END_MARKERS,
} from './engine.js'
import { checkGgufFile } from './gguf-file.js'

export interface LlamaCppOptions {
  /** A GGUF path, or a node-llama-cpp model URI such as hf:user/repo:quant (downloads once). */
  model: string
  /** Sequences decoded together. Default 1. */
  parallel?: number
  /** Context size per sequence. Default: the model's training context, at most 8192. */
  contextSize?: number
  /** CPU threads. Default: the machine's cores (node-llama-cpp's default of 4 is far slower on small machines). */
  threads?: number
  /** "auto" uses CUDA/Vulkan/Metal when present. Default "auto". */
  gpu?: 'auto' | false
}

/** Rendered prompts whose content spans are remembered until the prompt is tokenized (one per trajectory in flight). */
const MAX_REMEMBERED_PROMPTS = 256

export class LlamaCppEngine implements InferenceEngine {
  private readonly free: LlamaContextSequence[]
  private readonly waiting: ((sequence: LlamaContextSequence) => void)[] = []

  /** Recently rendered prompts, and where their message contents lie in them. */
  private readonly contentSpans = new Map<string, [number, number][]>()

  readonly tokenizer: TextTokenizer = {
    encode: async (text) => continuationTokens(this.model, text).map(Number),
    decode: async (tokens) => this.model.detokenize(tokens as Token[], false),
  }

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly template: Template | undefined,
    readonly modelName: string,
  ) {
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence())
  }

  static async load(options: LlamaCppOptions): Promise<LlamaCppEngine> {
    const threads = options.threads ?? availableParallelism()
    const llama = await getLlama({
      gpu: options.gpu ?? 'auto',
      build: 'never',
      maxThreads: threads,
      logLevel: 'error' as never,
    })
    let path: string
    try {
      path =
        options.model.includes(':') && !options.model.startsWith('/')
          ? await resolveModelFile(options.model)
          : options.model
    } catch (error) {
      throw new UsageError(`--model ${options.model}: cannot resolve (${(error as Error).message})`)
    }
    // node-llama-cpp's own reader never returns from some broken headers: refuse those first.
    checkGgufFile(path, '--model')
    let model: LlamaModel
    try {
      model = await llama.loadModel({ modelPath: path })
    } catch (error) {
      // A missing file was refused above.
      throw new UsageError(
        `--model ${options.model}: not a loadable GGUF model (${(error as Error).message})`,
      )
    }
    const wanted = options.contextSize ?? Math.min(model.trainContextSize, 8192)
    const context = await model.createContext({
      sequences: Math.max(1, options.parallel ?? 1),
      contextSize: wanted,
      threads,
    })
    const source = model.fileInfo.metadata.tokenizer?.chat_template
    const template = typeof source === 'string' ? new Template(source) : undefined
    return new LlamaCppEngine(llama, model, context, template, path.split('/').pop() ?? path)
  }

  /** The model's tokens for `text`, special tokens and BOS included as llama.cpp adds them. */
  tokenize(text: string): number[] {
    return [...this.model.tokenize(text, true)].map(Number)
  }

  renderPrompt(messages: ChatMessage[]): string {
    const bos = this.tokenText(this.model.tokens.bos)
    const eos = this.tokenText(this.model.tokens.eos)
    const prompt = this.template
      ? this.template.render({ messages, add_generation_prompt: true, bos_token: bos, eos_token: eos })
      : // No template in the file (a base model): plain text turns.
        `${bos}${messages.map((m) => `${m.role === 'user' ? '' : `${m.role}: `}${m.content}`).join('\n\n')}\n\n`
    if (this.contentSpans.size >= MAX_REMEMBERED_PROMPTS)
      this.contentSpans.delete(this.contentSpans.keys().next().value!)
    this.contentSpans.set(prompt, contentSpans(prompt, messages))
    return prompt
  }

  /**
   * The prompt's tokens: the template's markup with its special tokens, and message contents that spell
   * a special token (a step's "</s>", a forged "<|im_start|>assistant") as plain text, so a step under
   * judgement cannot end its turn or forge another. Contents are looked at here, after the prompt's
   * length is checked, not when it is rendered.
   */
  tokenizePrompt(prompt: string): Token[] {
    const spans = this.contentSpans.get(prompt)?.filter(([start, end]) => {
      const content = prompt.slice(start, end)
      const special = this.model.tokenize(content, true)
      const plain = this.model.tokenize(content, false)
      return special.length !== plain.length || special.some((token, i) => token !== plain[i])
    })
    if (!spans?.length) return this.model.tokenize(prompt, true)
    const tokens: Token[] = []
    let at = 0
    for (const [start, end] of spans) {
      const markup = prompt.slice(at, start)
      tokens.push(
        ...(at === 0 ? this.model.tokenize(markup, true) : continuationTokens(this.model, markup, true)),
      )
      tokens.push(...continuationTokens(this.model, prompt.slice(start, end), false))
      at = end
    }
    tokens.push(...continuationTokens(this.model, prompt.slice(at), true))
    return tokens
  }

  async startGeneration(
    prompt: string,
    sampling: Sampling,
    options: GenerationOptions = {},
  ): Promise<GenerationStream> {
    const tokens = this.promptTokens(prompt, options.continuation ?? '')
    const sequence =
      (options.reusePrefix ? this.closestFree(tokens) : this.free.pop()) ??
      (await new Promise<LlamaContextSequence>((r) => this.waiting.push(r)))
    // At least the prompt's last token is evaluated: its logits give the first sample.
    const reused = options.reusePrefix
      ? Math.min(sequence.compareContextTokens(tokens).firstDifferentIndex, tokens.length - 1)
      : 0
    if (reused === 0) await sequence.clearHistory()
    else if (reused < sequence.nextTokenIndex)
      await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }])
    return new LlamaCppStream(this.model, sequence, tokens, reused, sampling, () => this.release(sequence))
  }

  /** The free sequence whose context shares the longest prefix with `tokens`, taken from the free list. */
  private closestFree(tokens: Token[]): LlamaContextSequence | undefined {
    let best = -1
    let bestShared = -1
    for (const [index, sequence] of this.free.entries()) {
      const shared = sequence.compareContextTokens(tokens).firstDifferentIndex
      if (shared > bestShared) [best, bestShared] = [index, shared]
    }
    return best < 0 ? undefined : this.free.splice(best, 1)[0]
  }

  /**
   * The prompt's tokens, then the continuation's as plain text. One far longer than any context is
   * refused before tokenizing: llama.cpp takes minutes over tens of megabytes.
   */
  private promptTokens(prompt: string, continuation: string): Token[] {
    const contextSize = this.context.contextSize
    const characters = prompt.length + continuation.length
    if (characters > contextSize * MAX_CHARS_PER_TOKEN) {
      throw new PromptTooLongError(0, contextSize, `${characters} characters`)
    }
    const tokens = [...this.tokenizePrompt(prompt), ...continuationTokens(this.model, continuation)]
    if (tokens.length >= contextSize)
      throw new PromptTooLongError(tokens.length, contextSize, `${tokens.length} tokens`)
    return tokens
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift()
    if (next) next(sequence)
    else this.free.push(sequence)
  }

  async close(): Promise<void> {
    await this.context.dispose()
    await this.model.dispose()
    await this.llama.dispose()
  }

  private tokenText(token: Token | null): string {
    return token === null ? '' : this.model.detokenize([token], true)
  }
}

/** Where each message's content lies in the prompt rendered from them (in order; none found, none given). */
function contentSpans(prompt: string, messages: ChatMessage[]): [number, number][] {
  const spans: [number, number][] = []
  let from = 0
  for (const { content } of messages) {
    const at = content ? prompt.indexOf(content, from) : -1
    if (at < 0) continue
    from = at + content.length
    spans.push([at, from])
  }
  return spans
}

/** `text`'s tokens as a continuation of the context (`afterNewline`). */
function continuationTokens(model: LlamaModel, text: string, specialTokens = false): Token[] {
  if (text === '') return []
  const tokens = model.tokenize(`\n${text}`, specialTokens)
  return afterNewline(model.tokenize('\n', false), tokens) ?? model.tokenize(text, specialTokens)
}

class LlamaCppStream implements GenerationStream {
  private readonly generator: AsyncGenerator<Token, void, undefined | Token | Token[]>
  private pending: Token | undefined
  private replacePending = false
  private queued: Token[] = []
  private started = false
  private history: Token[] = []
  /**
   * Input tokens the engine should have evaluated if nothing is evaluated twice. node-llama-cpp's
   * token meter counts each batch passed to `evaluate`/`next(tokens)` less its first token (the
   * prompt's 54 tokens count 53), so this counts the same way.
   */
  private expectedInput: number
  private readonly startInput: number
  readonly stats: StreamStats

  constructor(
    private readonly model: LlamaModel,
    private readonly sequence: LlamaContextSequence,
    prompt: Token[],
    /** Leading prompt tokens already in the sequence's context (their KV kept). */
    reused: number,
    sampling: Sampling,
    private readonly release: () => void,
  ) {
    this.startInput = sequence.tokenMeter.usedInputTokens
    this.expectedInput = prompt.length - reused - 1
    this.stats = {
      promptTokens: prompt.length,
      generatedTokens: 0,
      appendedTokens: 0,
      reevaluatedTokens: 0,
      ...(reused > 0 ? { reusedTokens: reused } : {}),
    }
    this.generator = sequence.evaluate(prompt.slice(reused), {
      temperature: sampling.temperature,
      topP: sampling.temperature > 0 ? sampling.topP : undefined,
      seed: sampling.seed,
    })
    this.history = prompt.slice(-16)
  }

  get remaining(): number {
    return this.sequence.contextSize - this.sequence.nextTokenIndex - this.queued.length - 1
  }

  async next(): Promise<string | null> {
    let step: IteratorResult<Token, void>
    if (!this.started) {
      this.started = true
      step = await this.generator.next()
    } else if (this.replacePending || this.queued.length > 0) {
      const feed = [
        ...(this.replacePending || this.pending === undefined ? [] : [this.pending]),
        ...this.queued,
      ]
      this.expectedInput += feed.length - 1
      this.replacePending = false
      this.queued = []
      step = await this.generator.next(feed)
    } else {
      step = await this.generator.next()
    }
    this.updateReevaluated()
    if (step.done) return null
    const token = step.value
    this.pending = token
    if (this.model.isEogToken(token)) return null
    this.stats.generatedTokens++
    const text = this.model.detokenize([token], false, this.history)
    this.remember([token])
    for (const marker of TURN_END_MARKERS) if (text === marker) return null
    return text
  }

  async retract(count: number): Promise<void> {
    const evaluated = count - 1
    if (evaluated > 0) {
      const end = this.sequence.nextTokenIndex
      await this.sequence.eraseContextTokenRanges([{ start: end - evaluated, end }])
      this.history = this.history.slice(0, Math.max(0, this.history.length - count))
    }
    this.stats.generatedTokens -= Math.min(count, this.stats.generatedTokens)
    this.replacePending = true
  }

  append(text: string): number {
    const tokens = continuationTokens(this.model, text)
    this.queued.push(...tokens)
    this.stats.appendedTokens += tokens.length
    this.remember(tokens)
    return tokens.length
  }

  async close(): Promise<void> {
    await this.generator.return()
    this.release()
  }

  private remember(tokens: Token[]) {
    this.history = [...this.history, ...tokens].slice(-16)
  }

  private updateReevaluated() {
    const evaluated = this.sequence.tokenMeter.usedInputTokens - this.startInput
    // Not clamped: any mismatch, either way, shows up as non-zero.
    this.stats.reevaluatedTokens = evaluated - this.expectedInput
  }
}

/** A GGUF's chat template and end-of-sequence text, read from its metadata without loading the model. */
export async function readGgufChatTemplate(path: string): Promise<{ template?: string; eosToken: string }> {
  const { metadata } = (await readGgufInfo(path, '--model', { readTensorInfo: false })).info
  const tokenizer = metadata.tokenizer
  const template = tokenizer?.chat_template
  const eos = tokenizer?.ggml?.eos_token_id
  const eosToken = typeof eos === 'number' ? String(tokenizer?.ggml?.tokens?.[eos] ?? '') : ''
  return { template: typeof template === 'string' ? template : undefined, eosToken }
}

/**
 * For a model handed to another program (llama-server): a sound header, metadata that parses, and every
 * tensor starting inside the file. A file cut within its last tensor is left to that program to refuse.
 */
export async function checkGgufModel(path: string, flag: string): Promise<void> {
  const { info, size } = await readGgufInfo(path, flag, { spliceSplitFiles: false, logWarnings: false })
  if ((info.tensorInfo ?? []).some((tensor) => Number(tensor.fileOffset) >= size))
    throw new UsageError(`${flag} ${path}: a GGUF model cut short (${size} bytes, its tensors need more)`)
}

/** A GGUF file's metadata (and tensor table), read once its header is known to be sound, and its size. */
async function readGgufInfo(path: string, flag: string, options: Parameters<typeof readGgufFileInfo>[1]) {
  const size = checkGgufFile(path, flag)
  try {
    return { info: await readGgufFileInfo(path, options), size }
  } catch (error) {
    throw new UsageError(`${flag} ${path}: a corrupt GGUF model (${(error as Error).message})`)
  }
}
