import { describe, expect, it } from 'vitest'
import {
  COMPLETION_PATH,
  completionBody,
  detectServerKind,
  ProtocolError,
  parseCompletion,
  type SegmentRequest,
  TOP_K,
} from '../../src/inference/server-protocol.js'

/**
 * The documented request fields of each engine's raw completion endpoint: vLLM's `CompletionRequest`
 * (vllm/entrypoints/openai/protocol.py, vllm-project/vllm ec3b890), SGLang's `CompletionRequest`
 * (python/sglang/srt/entrypoints/openai/protocol.py, sgl-project/sglang 004c82e), and the options of
 * llama-server's POST /completion (tools/server/README.md of the llama.cpp node-llama-cpp ships).
 */
// biome-ignore format: the documented field names, packed as their sources list them
const DOCUMENTED = {
  vllm: [
    'model', 'prompt', 'echo', 'frequency_penalty', 'logit_bias', 'logprobs', 'max_tokens', 'n',
    'presence_penalty', 'seed', 'stop', 'stream', 'stream_options', 'suffix', 'temperature', 'top_p', 'user',
    'use_beam_search', 'top_k', 'min_p', 'repetition_penalty', 'length_penalty', 'stop_token_ids',
    'include_stop_str_in_output', 'ignore_eos', 'min_tokens', 'skip_special_tokens',
    'spaces_between_special_tokens', 'truncate_prompt_tokens', 'allowed_token_ids', 'prompt_logprobs',
    'add_special_tokens', 'response_format', 'priority', 'request_id', 'return_token_ids', 'cache_salt',
  ],
  sglang: [
    'model', 'prompt', 'best_of', 'echo', 'frequency_penalty', 'logit_bias', 'logprobs', 'max_tokens', 'n',
    'presence_penalty', 'seed', 'stop', 'stream', 'stream_options', 'suffix', 'temperature', 'top_p', 'user',
    'top_k', 'min_p', 'min_tokens', 'regex', 'repetition_penalty', 'stop_token_ids', 'no_stop_trim',
    'ignore_eos', 'skip_special_tokens', 'lora_path', 'session_params', 'rid', 'return_token_ids',
  ],
  'llama-server': [
    'prompt', 'temperature', 'dynatemp_range', 'dynatemp_exponent', 'top_k', 'top_p', 'min_p', 'n_predict',
    'n_indent', 'n_keep', 'n_cmpl', 'n_cache_reuse', 'stream', 'stop', 'typical_p', 'repeat_penalty',
    'repeat_last_n', 'presence_penalty', 'frequency_penalty', 'seed', 'ignore_eos', 'logit_bias', 'n_probs',
    'min_keep', 'id_slot', 'cache_prompt', 'return_tokens', 'samplers', 'response_fields',
  ],
} as const

const REQUEST: SegmentRequest = {
  prompt: '<|user|>\nWhat is 2+3?\n<|assistant|>\n<think>\nSo 5.\n',
  maxTokens: 512,
  stops: ['```', '</think>', 'Wait,'],
  sampling: { temperature: 0.6, topP: 0.95, seed: 7 },
  model: 'qwq-32b',
}

describe('completionBody', () => {
  for (const kind of ['vllm', 'sglang', 'llama-server'] as const) {
    it(`${kind}: only documented fields, the prompt as given, the stops, the sampler of every engine`, () => {
      const body = completionBody(kind, REQUEST)
      for (const key of Object.keys(body)) expect(DOCUMENTED[kind]).toContain(key)
      expect(body.prompt).toBe(REQUEST.prompt)
      expect(body.stop).toEqual(REQUEST.stops)
      expect(body).toMatchObject({ temperature: 0.6, top_p: 0.95, top_k: TOP_K, min_p: 0, seed: 7 })
    })
  }

  it('vLLM keeps the stop string in the text and special tokens such as </think>', () => {
    expect(completionBody('vllm', REQUEST)).toMatchObject({
      model: 'qwq-32b',
      max_tokens: 512,
      include_stop_str_in_output: true,
      skip_special_tokens: false,
      stream: false,
      n: 1,
    })
    expect(COMPLETION_PATH.vllm).toBe('/v1/completions')
  })

  it('SGLang keeps the stop string with no_stop_trim', () => {
    const body = completionBody('sglang', REQUEST)
    expect(body).toMatchObject({
      model: 'qwq-32b',
      max_tokens: 512,
      no_stop_trim: true,
      skip_special_tokens: false,
    })
    expect(body).not.toHaveProperty('include_stop_str_in_output')
    expect(COMPLETION_PATH.sglang).toBe('/v1/completions')
  })

  it("llama-server's native endpoint: n_predict, and the slot's prompt cache", () => {
    const body = completionBody('llama-server', REQUEST)
    expect(body).toMatchObject({ n_predict: 512, cache_prompt: true })
    expect(body).not.toHaveProperty('model')
    expect(COMPLETION_PATH['llama-server']).toBe('/completion')
  })
})

describe('parseCompletion', () => {
  const stops = REQUEST.stops
  it('llama-server: the stop word (left out of content) is put back, with the cache figures', () => {
    const response = parseCompletion(
      'llama-server',
      {
        content: 'Let me check.\n',
        stop_type: 'word',
        stopping_word: 'Wait,',
        tokens_evaluated: 86,
        tokens_predicted: 9,
        tokens_cached: 94,
        timings: { prompt_n: 1, cache_n: 85 },
      },
      stops,
    )
    expect(response).toEqual({
      text: 'Let me check.\nWait,',
      stop: 'word',
      stopWord: 'Wait,',
      promptTokens: 86,
      completionTokens: 9,
      cachedTokens: 85,
      heldTokens: 94,
    })
    const eos = parseCompletion(
      'llama-server',
      {
        content: 'done',
        stop_type: 'eos',
        stopping_word: '',
        tokens_evaluated: 5,
        tokens_predicted: 2,
        timings: {},
      },
      stops,
    )
    expect(eos).toMatchObject({ text: 'done', stop: 'eos', heldTokens: 6 })
    expect(eos).not.toHaveProperty('stopWord')
    expect(eos).not.toHaveProperty('cachedTokens')
    const limit = parseCompletion(
      'llama-server',
      { content: 'abc', stop_type: 'limit', tokens_evaluated: 5, tokens_predicted: 3 },
      stops,
    )
    expect(limit.stop).toBe('limit')
  })

  const choice = (extra: Record<string, unknown>, usage: Record<string, unknown> = {}) => ({
    choices: [{ index: 0, text: 'Let me check.\nWait,', ...extra }],
    usage: { prompt_tokens: 40, completion_tokens: 6, total_tokens: 46, ...usage },
  })

  it('vLLM: stop_reason names the stop string; null is the end of the turn; length is the limit', () => {
    expect(
      parseCompletion(
        'vllm',
        choice(
          { finish_reason: 'stop', stop_reason: 'Wait,' },
          { prompt_tokens_details: { cached_tokens: 32 } },
        ),
        stops,
      ),
    ).toEqual({
      text: 'Let me check.\nWait,',
      stop: 'word',
      stopWord: 'Wait,',
      promptTokens: 40,
      completionTokens: 6,
      cachedTokens: 32,
      heldTokens: 45,
    })
    const eos = parseCompletion(
      'vllm',
      choice({ text: 'The answer is 5.', finish_reason: 'stop', stop_reason: null }),
      stops,
    )
    expect(eos).toMatchObject({ text: 'The answer is 5.', stop: 'eos' })
    expect(eos).not.toHaveProperty('cachedTokens')
    expect(parseCompletion('vllm', choice({ finish_reason: 'stop', stop_reason: 151643 }), stops).stop).toBe(
      'eos',
    )
    expect(parseCompletion('vllm', choice({ finish_reason: 'length', stop_reason: null }), stops).stop).toBe(
      'limit',
    )
  })

  it('a stop string the server trimmed is put back, and text after it is dropped', () => {
    const trimmed = parseCompletion(
      'vllm',
      choice({ text: 'Let me check.\n', finish_reason: 'stop', stop_reason: 'Wait,' }),
      stops,
    )
    expect(trimmed.text).toBe('Let me check.\nWait,')
    const over = parseCompletion(
      'sglang',
      choice({ text: 'x\n```\n\n', finish_reason: 'stop', matched_stop: '```' }),
      stops,
    )
    expect(over.text).toBe('x\n```')
  })

  it("SGLang: matched_stop names the stop; an end-of-turn token's text is not the model's", () => {
    expect(
      parseCompletion('sglang', choice({ finish_reason: 'stop', matched_stop: 'Wait,' }), stops),
    ).toMatchObject({
      stop: 'word',
      stopWord: 'Wait,',
    })
    const eos = parseCompletion(
      'sglang',
      choice({ text: 'The answer is \\boxed{5}.<|im_end|>', finish_reason: 'stop', matched_stop: 151645 }),
      stops,
    )
    expect(eos).toMatchObject({ text: 'The answer is \\boxed{5}.', stop: 'eos' })
  })

  it('a response of another shape is a protocol error, not a silent empty segment', () => {
    expect(() => parseCompletion('llama-server', { choices: [] }, stops)).toThrow(ProtocolError)
    expect(() => parseCompletion('vllm', { content: 'x' }, stops)).toThrow(/no choices/)
    expect(() => parseCompletion('vllm', { choices: [{ text: 'x', finish_reason: 'stop' }] }, stops)).toThrow(
      /usage.prompt_tokens/,
    )
  })
})

describe('detectServerKind', () => {
  it('tells the three apart by what they publish', () => {
    expect(detectServerKind({ props: { default_generation_settings: { n_ctx: 4096 } } })).toBe('llama-server')
    expect(detectServerKind({ sglangInfo: { version: '0.5.0' } })).toBe('sglang')
    expect(detectServerKind({ version: { version: '0.11.0' } })).toBe('vllm')
    expect(detectServerKind({ props: { other: 1 }, version: 'x' })).toBeUndefined()
    expect(detectServerKind({})).toBeUndefined()
  })
})
