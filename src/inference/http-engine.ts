/**
 * The served engine (`--backend openai`): the model runs on vLLM, SGLang or llama-server and every
 * segment of a trajectory is one raw completion request, stopped where the hint loop decides. The
 * resubmit carries the prompt and the whole text so far; the server's prefix cache (vLLM automatic
 * prefix caching, SGLang RadixAttention, llama-server `cache_prompt`) evaluates only what was appended.
 */
import { readFile } from 'node:fs/promises'
import { UsageError } from '../core/errors.js'
import { AnswerPieces } from './answer-pieces.js'
import { type ChatTemplate, compileChatTemplate, renderChatPrompt } from './chat-template.js'
import {
  type ChatMessage,
  type GenerationOptions,
  type GenerationStream,
  type InferenceEngine,
  MAX_CHARS_PER_TOKEN,
  PromptTooLongError,
  type Sampling,
  type StreamPlan,
  type StreamStats,
  type TextTokenizer,
} from './engine.js'
import { HttpClient, ServerError } from './http-client.js'
import { readGgufChatTemplate } from './llama-cpp.js'
import {
  COMPLETION_PATH,
  completionBody,
  detectServerKind,
  ProtocolError,
  parseCompletion,
  type SegmentRequest,
  type SegmentResponse,
  type ServerKind,
} from './server-protocol.js'

export interface ServedOptions {
  baseUrl: string
  /** The key itself (read from --api-key-env by the caller); never logged or stored. */
  apiKey?: string
  servedModel?: string
  serverKind: ServerKind | 'auto'
  /** Requests in flight. */
  concurrency: number
  requestTimeoutMs: number
  retries: number
  /** A Jinja chat template file. */
  chatTemplate?: string
  /** A GGUF whose chat template renders the prompt. */
  model?: string
  /** Context per sequence; default: what the server reports. */
  contextSize?: number
  /** Retries and other notices, one line each. */
  onNotice?: (line: string) => void
  /** Backoff before the first retry, ms (tests shorten it). */
  backoffMs?: number
}

/** No tokenizer spends fewer characters per token: the estimate of appended text errs on the long side. */
const MIN_CHARS_PER_TOKEN = 2

export class ServedEngine implements InferenceEngine {
  /** Completion requests answered: one per segment. */
  requests = 0
  private inFlight = 0
  private readonly waiting: (() => void)[] = []

  private constructor(
    private readonly client: HttpClient,
    readonly kind: ServerKind,
    readonly modelName: string,
    readonly contextSize: number,
    private readonly chat: ChatTemplate,
    private readonly concurrency: number,
  ) {}

  /**
   * The served model's tokenizer through the server: llama-server's /tokenize and /detokenize
   * ({content} / {tokens}), vLLM's and SGLang's ({prompt}, with the model's name).
   */
  readonly tokenizer: TextTokenizer = {
    // As the model continues a context: after a newline whose own tokens are then cut off, so that a
    // SentencePiece vocabulary opens no word (the in-process engine counts the same way).
    encode: async (text) => {
      const [newline, tokens] = await Promise.all([this.tokenize('\n'), this.tokenize(`\n${text}`)])
      if (newline.length > 0 && newline.every((token, i) => tokens[i] === token))
        return tokens.slice(newline.length)
      return this.tokenize(text)
    },
    decode: async (tokens) => {
      const body = this.kind === 'llama-server' ? { tokens } : { model: this.modelName, tokens }
      const answer = (await this.client.post('/detokenize', body)) as { content?: unknown; prompt?: unknown }
      const text = this.kind === 'llama-server' ? answer.content : answer.prompt
      if (typeof text !== 'string') throw new ServerError('/detokenize: no text in the answer')
      return text
    },
  }

  private async tokenize(text: string): Promise<number[]> {
    const body =
      this.kind === 'llama-server'
        ? { content: text, add_special: false }
        : { model: this.modelName, prompt: text, add_special_tokens: false }
    const answer = (await this.client.post('/tokenize', body)) as { tokens?: unknown }
    if (!Array.isArray(answer.tokens)) throw new ServerError('/tokenize: no "tokens" in the answer')
    // llama-server answers [id, piece] pairs when asked for pieces; ids alone otherwise
    return answer.tokens.map((token) => Number(Array.isArray(token) ? token[0] : token))
  }

  /** Probes the server (what it is, its model and context), and loads the chat template. */
  static async connect(options: ServedOptions): Promise<ServedEngine> {
    const url = httpUrl(options.baseUrl)
    if (!url) {
      throw new UsageError(
        `--base-url ${options.baseUrl}: not a URL`,
        'e.g. --base-url http://127.0.0.1:8000',
      )
    }
    const client = new HttpClient({
      baseUrl: url.toString(),
      apiKey: options.apiKey,
      timeoutMs: options.requestTimeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
      onRetry: options.onNotice,
    })
    const models = await client.get('/v1/models').catch((error: Error) => {
      throw new ServerError(`--base-url ${options.baseUrl}: ${error.message}`)
    })
    const listed = ((models as { data?: unknown }).data ?? []) as Record<string, unknown>[]
    const props = await client.probe('/props')
    let kind = options.serverKind
    if (kind === 'auto') {
      const sglangInfo = (await client.probe('/server_info')) ?? (await client.probe('/get_server_info'))
      const detected = detectServerKind({
        props,
        sglangInfo,
        version: sglangInfo ? undefined : await client.probe('/version'),
      })
      if (!detected) {
        throw new UsageError(
          `--base-url ${options.baseUrl}: cannot tell which server this is (no /props, /server_info or /version)`,
          'give --server-kind vllm, sglang or llama-server',
        )
      }
      kind = detected
    }
    const entry = options.servedModel ? listed.find((model) => model.id === options.servedModel) : listed[0]
    if (options.servedModel && !entry && listed.length > 0) {
      throw new UsageError(
        `--served-model ${options.servedModel}: the server lists ${listed.map((model) => model.id).join(', ')}`,
      )
    }
    const modelName = options.servedModel ?? String(entry?.id ?? 'default')
    const settings = (props as { default_generation_settings?: { n_ctx?: unknown } } | undefined)
      ?.default_generation_settings
    const reported = kind === 'llama-server' ? settings?.n_ctx : entry?.max_model_len
    const contextSize = options.contextSize ?? (typeof reported === 'number' ? reported : undefined)
    if (!contextSize) {
      throw new UsageError(
        `--base-url ${options.baseUrl}: the server does not report its context size`,
        'give --context-size',
      )
    }
    const chat = await chatTemplate(options, props)
    return new ServedEngine(client, kind, modelName, contextSize, chat, options.concurrency)
  }

  /**
   * The model's template with the generation prompt. BOS is the server's to add: each tokenizes a text
   * prompt as the model's tokenizer says (llama-server by the GGUF's add_bos_token, vLLM and SGLang by
   * the tokenizer config), so a BOS written here would be doubled.
   */
  renderPrompt(messages: ChatMessage[]): string {
    return renderChatPrompt(this.chat, messages)
  }

  /**
   * A continuation joins the prompt as the resubmits' appended text does: the server tokenizes each
   * request's text whole (a marker in it is parsed as the server parses any prompt), so a continued
   * prefix reads as the trajectory that made it read on the same server.
   */
  async startGeneration(
    prompt: string,
    sampling: Sampling,
    options: GenerationOptions = {},
  ): Promise<GenerationStream> {
    const text = prompt + (options.continuation ?? '')
    if (text.length > this.contextSize * MAX_CHARS_PER_TOKEN) {
      throw new PromptTooLongError(0, this.contextSize, `${text.length} characters`)
    }
    return new ServedStream(this, text, sampling)
  }

  /** One segment, within the concurrency limit. */
  async complete(request: Omit<SegmentRequest, 'model'>): Promise<SegmentResponse> {
    if (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.inFlight++
    try {
      const body = await this.client.post(
        COMPLETION_PATH[this.kind],
        completionBody(this.kind, { ...request, model: this.modelName }),
      )
      this.requests++
      return parseCompletion(this.kind, body, request.stops)
    } catch (error) {
      if (error instanceof ProtocolError) throw new ServerError(`${this.client.baseUrl}: ${error.message}`)
      // The first segment of a prompt that does not fit: that record fails, the run goes on.
      if (
        error instanceof ServerError &&
        error.status === 400 &&
        /context|too long|maximum/i.test(error.message)
      ) {
        throw new PromptTooLongError(0, this.contextSize, error.message)
      }
      throw error
    } finally {
      this.inFlight--
      this.waiting.shift()?.()
    }
  }

  async close(): Promise<void> {}
}

async function chatTemplate(options: ServedOptions, props: unknown): Promise<ChatTemplate> {
  if (options.chatTemplate) {
    const source = await readFile(options.chatTemplate, 'utf8').catch(() => {
      throw new UsageError(`--chat-template ${options.chatTemplate}: no such file`)
    })
    return { template: compileChatTemplate(source, `--chat-template ${options.chatTemplate}`), eosToken: '' }
  }
  if (options.model) {
    const found = await readGgufChatTemplate(options.model)
    if (!found.template)
      throw new UsageError(
        `--model ${options.model}: the GGUF has no chat template`,
        'give --chat-template FILE',
      )
    return {
      template: compileChatTemplate(found.template, `--model ${options.model}`),
      eosToken: found.eosToken,
    }
  }
  const served = props as { chat_template?: unknown; eos_token?: unknown } | undefined
  if (typeof served?.chat_template === 'string' && served.chat_template) {
    return {
      template: compileChatTemplate(served.chat_template, `${options.baseUrl}/props chat_template`),
      eosToken: typeof served.eos_token === 'string' ? served.eos_token : '',
    }
  }
  throw new UsageError(
    `--base-url ${options.baseUrl}: the server does not publish the model's chat template`,
    'give --chat-template FILE, or --model the GGUF it serves',
  )
}

function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text)
    return /^https?:$/.test(url.protocol) ? url : undefined
  } catch {
    return undefined
  }
}

/** A seed per segment: the same trajectory seed gives the same requests, and segments are not correlated. */
function segmentSeed(seed: number, segment: number): number {
  return (seed + Math.imul(segment, 0x9e3779b1)) >>> 0
}

class ServedStream implements GenerationStream {
  /** Everything after the prompt: generated and appended. */
  private text = ''
  private readonly pieces = new AnswerPieces()
  private plan: StreamPlan = { stops: [], maxTokens: Number.POSITIVE_INFINITY }
  private segments = 0
  /** Tokens of prompt + text: exact at each answer, estimated for appends and retractions since. */
  private contextTokens: number
  /** appended - retracted since the last answer, as estimated. */
  private estimatedSince = 0
  /** Tokens the server holds evaluated for this trajectory after the last answer. */
  private held = 0
  /** Characters retracted since the last answer: held tokens the resubmit cannot reuse (at most one each). */
  private retractedChars = 0
  readonly stats: StreamStats

  constructor(
    private readonly engine: ServedEngine,
    private readonly prompt: string,
    private readonly sampling: Sampling,
  ) {
    this.contextTokens = Math.ceil(prompt.length / MIN_CHARS_PER_TOKEN)
    this.stats = { promptTokens: 0, generatedTokens: 0, appendedTokens: 0, reevaluatedTokens: 0 }
  }

  get remaining(): number {
    return this.engine.contextSize - this.contextTokens - 1
  }

  setPlan(plan: StreamPlan): void {
    this.plan = plan
  }

  async next(): Promise<string | null> {
    if (this.pieces.empty) {
      const response = await this.engine.complete({
        prompt: this.prompt + this.text,
        maxTokens: Math.max(1, Math.min(this.plan.maxTokens, this.remaining)),
        stops: this.plan.stops,
        sampling: { ...this.sampling, seed: segmentSeed(this.sampling.seed, this.segments) },
      })
      this.account(response)
      this.pieces.fill(response.text, this.plan.stops, response.stop === 'eos')
    }
    const piece = this.pieces.take()
    if (piece !== null) this.text += piece
    return piece
  }

  async retract(count: number): Promise<void> {
    for (const piece of this.pieces.retract(count)) {
      this.text = this.text.slice(0, this.text.length - piece.length)
      this.retractedChars += piece.length
      const tokens = Math.ceil(piece.length / MIN_CHARS_PER_TOKEN)
      this.stats.generatedTokens = Math.max(0, this.stats.generatedTokens - tokens)
      this.contextTokens -= tokens
      this.estimatedSince -= tokens
    }
  }

  append(text: string): number {
    const tokens = Math.ceil(text.length / MIN_CHARS_PER_TOKEN)
    this.text += text
    this.pieces.appended()
    this.stats.appendedTokens += tokens
    this.contextTokens += tokens
    this.estimatedSince += tokens
    return tokens
  }

  async close(): Promise<void> {}

  /** Token counts from the server's own tokenizer; the estimates since the last answer are corrected. */
  private account(response: SegmentResponse): void {
    const first = this.segments === 0
    this.segments++
    if (first) this.stats.promptTokens = response.promptTokens
    else {
      // What the resubmit holds beyond the last answer: the appended text less anything retracted.
      const added = response.promptTokens - (this.contextTokens - this.estimatedSince)
      this.stats.appendedTokens += added - this.estimatedSince
      if (response.cachedTokens !== undefined) {
        // The server must evaluate what it did not hold (at least one token, for the next logits), and
        // held tokens that were retracted: exact without a retraction, a generous bound with one.
        const expected = Math.max(response.promptTokens - this.held + this.retractedChars, 1)
        const processed = response.promptTokens - response.cachedTokens
        this.stats.reevaluatedTokens += Math.max(0, processed - expected)
      }
    }
    this.stats.generatedTokens += response.completionTokens
    this.contextTokens = response.promptTokens + response.completionTokens
    this.estimatedSince = 0
    this.retractedChars = 0
    this.held = response.heldTokens
  }
}
