import type { OptionSpecs, OptionValues } from '../core/options.js'
import { STEP_RULES } from '../filter/types.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'
import { ABLATIONS } from './counterfactual.js'

export const JUDGES = ['rules', 'model', 'counterfactual'] as const

/** `start judge`: which judge, and how a judge model is sampled. */
export const JUDGE_OPTIONS = {
  judge: {
    kind: 'string',
    options: JUDGES,
    default: 'rules',
    description:
      'rules: offline checks of the trajectory; model: a judge model (--model or --backend openai) answers --rubric; counterfactual: the policy (--model) continues after each step with its tool output and with it ablated',
  },
  ablate: {
    kind: 'string',
    options: ABLATIONS,
    default: 'empty',
    description:
      "--judge counterfactual: the output replaced by nothing, by the interpreter's error, by another problem's output of the same shape, or the step dropped",
  },
  k: {
    kind: 'integer',
    min: 1,
    default: 4,
    description:
      "--judge counterfactual: continuations per arm (the real arm counts the trajectory's own ending)",
  },
  maxStepsPerTrajectory: {
    kind: 'integer',
    min: 0,
    default: 0,
    description: '--judge counterfactual: steps judged per trajectory at most, the first ones (0: all)',
  },
  alpha: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.05,
    description:
      "--judge counterfactual: yes when Fisher's one-sided test puts the credit above 0 at this level",
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
