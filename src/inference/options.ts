import { defaultOptions, type OptionSpecs, type OptionValues } from '../core/options.js'
import { HINT_OPTIONS } from '../hints/options.js'

/** Sampling temperature (0 is greedy). */
export const DEFAULT_TEMPERATURE = 0.6
/** Nucleus sampling. */
export const DEFAULT_TOP_P = 0.95
/** Tokens per trajectory after the prompt. */
export const DEFAULT_MAX_TOKENS = 4096
/** START's cap on the code blocks run per trajectory. */
export const DEFAULT_MAX_TOOL_CALLS = 6
/** Characters of an execution's output shown to the model. */
export const DEFAULT_MAX_OUTPUT_CHARS = 2048
/** The user turn of a math problem. */
export const DEFAULT_MATH_PROMPT =
  '{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.'
/** The user turn of a code problem. */
export const DEFAULT_CODE_PROMPT =
  'Complete the following Python function. Think step by step, then give the whole function in a ```python code block.\n\n{problem}'

/**
 * How a model is sampled, the same for `start hint-infer`, `start eval` and `start rft --stage 2`, and
 * for the config's top level (the defaults of every sampling section) and its sections.
 */
/** Where a tool output over its token limit is cut. */
export const TRUNCATE_SIDES = ['left', 'middle', 'right'] as const
export type TruncateSide = (typeof TRUNCATE_SIDES)[number]

export const SAMPLING_OPTIONS = {
  samples: { kind: 'integer', min: 1, default: 1, char: 'k', description: 'samples per problem' },
  parallel: {
    kind: 'integer',
    min: 1,
    default: 1,
    char: 'p',
    description: 'sequences decoded together in one context',
  },
  temperature: {
    kind: 'number',
    min: 0,
    default: DEFAULT_TEMPERATURE,
    description: 'sampling temperature (0 = greedy)',
  },
  topP: { kind: 'number', min: 0, max: 1, default: DEFAULT_TOP_P, description: 'nucleus sampling' },
  seed: { kind: 'integer', min: 0, default: 0, description: 'seed for sampling and hint choices' },
  maxTokens: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_MAX_TOKENS,
    description: 'tokens per trajectory after the prompt',
  },
  maxToolCalls: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_MAX_TOOL_CALLS,
    description: 'code blocks run per trajectory',
  },
  maxOutputChars: {
    kind: 'integer',
    min: 16,
    default: DEFAULT_MAX_OUTPUT_CHARS,
    description: 'characters of an execution output shown to the model',
  },
  maxToolOutputTokens: {
    kind: 'integer',
    min: 0,
    default: 0,
    description:
      "tokens of an execution output shown to the model, counted by the model's tokenizer (0: only --max-output-chars)",
  },
  truncateSide: {
    kind: 'string',
    options: TRUNCATE_SIDES,
    default: 'middle',
    description:
      'where --max-tool-output-tokens cuts: left (keeps the end), middle (keeps both ends), right (keeps the start)',
  },
  promptTemplate: {
    kind: 'string',
    default: DEFAULT_MATH_PROMPT,
    description: 'user turn for math problems; {problem} is replaced',
  },
  codePromptTemplate: {
    kind: 'string',
    default: DEFAULT_CODE_PROMPT,
    description: 'user turn for code problems; {problem} is replaced',
  },
  system: { kind: 'string', description: 'system message' },
  contextSize: {
    kind: 'integer',
    min: 16,
    description: 'context per sequence (default: the model training context, at most 8192)',
  },
  threads: { kind: 'integer', min: 1, description: 'CPU threads (default: all cores)' },
} as const satisfies OptionSpecs

export type SamplingSettings = OptionValues<typeof SAMPLING_OPTIONS>

/**
 * Where the model runs: in this process (node-llama-cpp on --model), or on a serving engine that speaks
 * the OpenAI completions protocol (vLLM, SGLang, llama-server). The same for `start hint-infer`,
 * `start eval` and `start rft --stage 2`, and the config's `backend:` section.
 */
export const BACKEND_OPTIONS = {
  backend: {
    kind: 'string',
    options: ['llama-cpp', 'openai'],
    default: 'llama-cpp',
    description: 'llama-cpp: the model in this process; openai: a served model at --base-url',
  },
  baseUrl: { kind: 'string', description: 'the server (openai backend), e.g. http://127.0.0.1:8000' },
  apiKeyEnv: {
    kind: 'string',
    description: 'environment variable holding the API key (the key is never printed or stored)',
  },
  servedModel: { kind: 'string', description: 'model name on the server (default: the first it lists)' },
  serverKind: {
    kind: 'string',
    options: ['auto', 'vllm', 'sglang', 'llama-server'],
    default: 'auto',
    description: 'what serves the model (auto: probe it)',
  },
  concurrency: {
    kind: 'integer',
    min: 1,
    // a bound, not a target: past it a typo (1e12) would allocate before any request goes out
    max: 4096,
    default: 8,
    description: 'requests in flight (openai backend), one trajectory each',
  },
  requestTimeout: {
    kind: 'integer',
    min: 1,
    default: 600,
    description: 'seconds per request (openai backend)',
  },
  retries: {
    kind: 'integer',
    min: 0,
    default: 5,
    description: 'tries again after 429, 5xx, a dropped connection or a timeout, with backoff',
  },
  chatTemplate: {
    kind: 'string',
    path: true,
    description: "Jinja chat template file (openai backend; default: the GGUF's, or llama-server's)",
  },
} as const satisfies OptionSpecs

export type BackendSettings = OptionValues<typeof BACKEND_OPTIONS>

/** The model in this process: what a stage runs on when no backend is given. */
export const IN_PROCESS: BackendSettings = defaultOptions(BACKEND_OPTIONS)

/** `start hint-infer`: sampling, hints, and what to do with a bad problem line. */
export const HINT_INFER_OPTIONS = {
  ...SAMPLING_OPTIONS,
  ...HINT_OPTIONS,
  skipInvalid: { kind: 'boolean', default: false, description: 'report and skip bad problem lines' },
} as const satisfies OptionSpecs

export type HintInferSettings = OptionValues<typeof HINT_INFER_OPTIONS>
