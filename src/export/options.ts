import type { OptionSpecs, OptionValues } from '../core/options.js'
import { HINT_OPTIONS } from '../hints/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'

/** Formats `start export` writes. */
export const EXPORT_FORMATS = ['verl'] as const

/** `start export`: an RL dataset and rollout loop for another trainer. */
export const EXPORT_OPTIONS = {
  format: { kind: 'string', options: EXPORT_FORMATS, default: 'verl', description: 'what to write' },
  promptTemplate: SAMPLING_OPTIONS.promptTemplate,
  codePromptTemplate: SAMPLING_OPTIONS.codePromptTemplate,
  system: SAMPLING_OPTIONS.system,
  maxToolCalls: SAMPLING_OPTIONS.maxToolCalls,
  maxOutputChars: SAMPLING_OPTIONS.maxOutputChars,
  maxToolOutputTokens: SAMPLING_OPTIONS.maxToolOutputTokens,
  truncateSide: SAMPLING_OPTIONS.truncateSide,
  hints: {
    kind: 'boolean',
    default: false,
    description: 'the agent loop puts a hint where the thinking first ends',
  },
  thinkHints: HINT_OPTIONS.thinkHints,
  sandboxUrl: {
    kind: 'string',
    default: 'http://127.0.0.1:8080',
    description: 'the SandboxFusion API the agent loop runs code on (start sandbox serve --port)',
  },
  graderUrl: {
    kind: 'string',
    default: 'http://127.0.0.1:8080',
    description: "the reward function's grader (start sandbox serve's /grade)",
  },
  runTimeout: { kind: 'integer', min: 1, default: 10, description: 'seconds per cell in the agent loop' },
  venv: TRAINING_OPTIONS.venv,
} as const satisfies OptionSpecs

export type ExportSettings = OptionValues<typeof EXPORT_OPTIONS>
