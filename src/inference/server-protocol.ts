/**
 * The raw-completion protocol of the serving engines `--backend openai` speaks to. Pure: request
 * bodies and response parsing, one place per server kind, checked field by field in unit tests
 * against each engine's documented request and response models.
 */
import { type Sampling, TURN_END_MARKERS } from './engine.js'

export const SERVER_KINDS = ['vllm', 'sglang', 'llama-server'] as const
export type ServerKind = (typeof SERVER_KINDS)[number]

/** Raw continuation: the loop resubmits prompt + text so far, which the chat endpoint cannot take. */
export const COMPLETION_PATH: Record<ServerKind, string> = {
  vllm: '/v1/completions',
  sglang: '/v1/completions',
  'llama-server': '/completion',
}

/**
 * node-llama-cpp's default top-k: every engine samples with the same temperature, top-p and top-k, so
 * a backend switch changes where tokens are computed, not how they are drawn.
 */
export const TOP_K = 40

export interface SegmentRequest {
  /** Everything so far: the rendered prompt and the trajectory's text. */
  prompt: string
  maxTokens: number
  /** Where the loop decides; generation stops right after the first one written. */
  stops: readonly string[]
  sampling: Sampling
  /** The served model's name (vLLM and SGLang route by it). */
  model: string
}

export interface SegmentResponse {
  /** What the model wrote, ending with the stop string that fired (if one did) and nothing after it. */
  text: string
  /** A stop string fired, the model ended its turn, or the token limit was reached. */
  stop: 'word' | 'eos' | 'limit'
  /** Which stop string fired. */
  stopWord?: string
  promptTokens: number
  completionTokens: number
  /** Prompt tokens taken from the server's prefix cache, when the server says. */
  cachedTokens?: number
  /** Tokens of prompt + text whose KV the server now holds for a resubmit. */
  heldTokens: number
}

export function completionBody(kind: ServerKind, request: SegmentRequest): Record<string, unknown> {
  const { sampling } = request
  const shared = {
    prompt: request.prompt,
    stop: [...request.stops],
    temperature: sampling.temperature,
    top_p: sampling.topP,
    top_k: TOP_K,
    min_p: 0,
    seed: sampling.seed,
  }
  // The slot keeps the KV of prompt + text; the resubmit evaluates only what was appended.
  if (kind === 'llama-server') return { ...shared, n_predict: request.maxTokens, cache_prompt: true }
  const common = {
    ...shared,
    model: request.model,
    max_tokens: request.maxTokens,
    n: 1,
    stream: false,
    // Reasoning markers such as </think> are special tokens in some vocabularies: keep them in the text.
    skip_special_tokens: false,
  }
  return kind === 'vllm'
    ? { ...common, include_stop_str_in_output: true, spaces_between_special_tokens: false }
    : { ...common, no_stop_trim: true }
}

/** A response that is not what the protocol promises: the server is not the kind we took it for. */
export class ProtocolError extends Error {
  constructor(kind: ServerKind, detail: string) {
    super(`not a ${kind} completion response: ${detail}`)
    this.name = 'ProtocolError'
  }
}

export function parseCompletion(kind: ServerKind, body: unknown, stops: readonly string[]): SegmentResponse {
  const json = body as Record<string, unknown>
  const need = (value: unknown, type: 'string' | 'number', what: string) => {
    if (typeof value !== type) throw new ProtocolError(kind, `${what} is not a ${type}`)
    return value as never
  }
  if (kind === 'llama-server') {
    const content: string = need(json.content, 'string', 'content')
    const stopType: string = need(json.stop_type, 'string', 'stop_type')
    const timings = (json.timings ?? {}) as Record<string, unknown>
    const promptTokens: number = need(json.tokens_evaluated, 'number', 'tokens_evaluated')
    const completionTokens: number = need(json.tokens_predicted, 'number', 'tokens_predicted')
    const word = stopType === 'word' ? String(json.stopping_word ?? '') : ''
    return {
      // llama-server leaves the stop string out of `content` and names it in `stopping_word`.
      text: content + word,
      stop: stopType === 'word' ? 'word' : stopType === 'eos' ? 'eos' : 'limit',
      ...(word ? { stopWord: word } : {}),
      promptTokens,
      completionTokens,
      ...(typeof timings.cache_n === 'number' ? { cachedTokens: timings.cache_n } : {}),
      heldTokens:
        typeof json.tokens_cached === 'number' ? json.tokens_cached : promptTokens + completionTokens - 1,
    }
  }
  const choice = (Array.isArray(json.choices) ? json.choices[0] : undefined) as
    | Record<string, unknown>
    | undefined
  if (!choice) throw new ProtocolError(kind, 'no choices')
  const usage = (json.usage ?? {}) as Record<string, unknown>
  const promptTokens: number = need(usage.prompt_tokens, 'number', 'usage.prompt_tokens')
  const completionTokens: number = need(usage.completion_tokens, 'number', 'usage.completion_tokens')
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined
  const cached = details?.cached_tokens
  const finish = choice.finish_reason
  // vLLM names the stop in `stop_reason`, SGLang in `matched_stop`: a string for a stop string, a
  // token id (or nothing) for the end of the turn.
  const matched = kind === 'vllm' ? choice.stop_reason : choice.matched_stop
  let text: string = need(choice.text, 'string', 'choices[0].text')
  let stopWord: string | undefined
  if (finish === 'stop' && typeof matched === 'string' && matched !== '') {
    stopWord = matched
    text = throughStop(text, matched)
  } else if (finish === 'stop' && matched === undefined) {
    // A server that does not say which stop fired still shows a stop string at the end of the text.
    stopWord = stops.find((word) => text.endsWith(word))
  }
  const stop = finish === 'length' ? 'limit' : stopWord ? 'word' : 'eos'
  // SGLang with no_stop_trim keeps the end-of-turn token's text; the loop never sees it in-process.
  if (stop === 'eos') text = withoutTurnEnd(text)
  return {
    text,
    stop,
    ...(stopWord ? { stopWord } : {}),
    promptTokens,
    completionTokens,
    ...(typeof cached === 'number' ? { cachedTokens: cached } : {}),
    heldTokens: promptTokens + completionTokens - 1,
  }
}

function withoutTurnEnd(text: string): string {
  const marker = TURN_END_MARKERS.find((end) => text.endsWith(end))
  return marker ? text.slice(0, -marker.length) : text
}

/** The text up to the end of the stop string's first occurrence (the stop string appended when trimmed). */
function throughStop(text: string, word: string): string {
  const at = text.indexOf(word)
  return at === -1 ? text + word : text.slice(0, at + word.length)
}

/** How the server that answered the probes identifies itself. */
export interface ServerProbe {
  /** GET /props answered with llama-server's fields. */
  props?: unknown
  /** GET /server_info or /get_server_info answered (SGLang). */
  sglangInfo?: unknown
  /** GET /version answered (vLLM). */
  version?: unknown
}

/** `--server-kind auto`: llama-server has /props, SGLang /server_info, vLLM /version. */
export function detectServerKind(probe: ServerProbe): ServerKind | undefined {
  const props = probe.props as Record<string, unknown> | undefined
  if (props && typeof props === 'object' && 'default_generation_settings' in props) return 'llama-server'
  if (probe.sglangInfo && typeof probe.sglangInfo === 'object') return 'sglang'
  const version = probe.version as Record<string, unknown> | undefined
  if (version && typeof version.version === 'string') return 'vllm'
  return undefined
}
