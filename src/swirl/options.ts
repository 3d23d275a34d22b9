import type { OptionSpecs, OptionValues } from '../core/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'

export const JUDGES = ['rules', 'model'] as const

/** `start judge`: which judge, and how a judge model is sampled. */
export const JUDGE_OPTIONS = {
  judge: {
    kind: 'string',
    options: JUDGES,
    default: 'rules',
    description:
      'rules: offline checks of the trajectory; model: a judge model (--model or --backend openai) answers --rubric',
  },
  rubric: {
    kind: 'string',
    default: 'process',
    description: "the judge model's question: process, outcome (rubrics/) or a rubric JSON file",
  },
  temperature: { ...SAMPLING_OPTIONS.temperature, default: 0 },
  topP: SAMPLING_OPTIONS.topP,
  seed: SAMPLING_OPTIONS.seed,
  maxTokens: {
    kind: 'integer',
    min: 1,
    description: "tokens per verdict (default: the rubric's, else 1024)",
  },
  parallel: SAMPLING_OPTIONS.parallel,
  contextSize: SAMPLING_OPTIONS.contextSize,
  threads: SAMPLING_OPTIONS.threads,
} as const satisfies OptionSpecs

export type JudgeSettings = OptionValues<typeof JUDGE_OPTIONS>
