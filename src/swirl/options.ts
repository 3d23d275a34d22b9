import type { OptionSpecs, OptionValues } from '../core/options.js'
import { STEP_RULES } from '../filter/types.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'

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

/** The rules the pipeline trains one model each with, by default: SWiRL's table (none, process, outcome, both). */
export const DEFAULT_SWIRL_RULES = [...STEP_RULES]

/**
 * The pipeline's `swirl:` section: step-wise SFT of the base on the hinted trajectories' steps, one model
 * per step rule, and the generalisation run (train on all problem families but one, evaluate on that one).
 */
export const SWIRL_OPTIONS = {
  ...TRAINING_OPTIONS,
  rules: {
    kind: 'list',
    default: DEFAULT_SWIRL_RULES,
    description: `step rules to train one model each with (${STEP_RULES.join(', ')})`,
  },
  holdOut: {
    kind: 'string',
    description:
      'a problem family (meta.family): also train on the steps of the other families and evaluate on this one',
  },
  transferRule: {
    kind: 'string',
    options: STEP_RULES,
    default: 'process',
    description: 'the step rule of the hold-out model',
  },
  judgeModel: {
    kind: 'string',
    path: true,
    description: 'a GGUF process judge with rubrics/process.json (default: the rules judge)',
  },
} as const satisfies OptionSpecs

export type SwirlSettings = OptionValues<typeof SWIRL_OPTIONS>
