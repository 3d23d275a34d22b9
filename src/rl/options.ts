import { UsageError } from '../core/errors.js'
import type { OptionSpecs, OptionValues } from '../core/options.js'
import { HINT_OPTIONS } from '../hints/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'
import { JUDGE_OPTIONS } from '../swirl/options.js'
import { OUTTYPES, TRAINING_OPTIONS } from '../training/options.js'

/** How a rollout is rewarded. */
export const REWARDS = ['outcome', 'shaped'] as const
export type RewardKind = (typeof REWARDS)[number]

/** What is rolled out and rewarded: whole trajectories (ReTool) or single steps (SWiRL). */
export const OBJECTIVES = ['trajectory', 'stepwise'] as const
export const BASELINES = ['group', 'batch'] as const
/** What happens to a rollout cut at the token limit: kept as graded, masked from the loss, or DAPO's soft penalty. */
export const OVERLONG = ['keep', 'mask', 'soft'] as const
/** What happens to a rollout with a void turn (after a tool call, a turn with neither code nor an answer). */
export const VOID_TURNS = ['keep', 'mask'] as const

/** Policy learning rate of RL: ReTool's recipe uses 1e-6. */
export const DEFAULT_RL_LR = 1e-6

/** `start rl`: GRPO with the hint-infer rollout loop; the config's `rl:` section. */
export const RL_OPTIONS = {
  maxSteps: { kind: 'integer', min: 1, default: 50, description: 'optimizer steps' },
  numGenerations: {
    kind: 'integer',
    min: 2,
    default: 8,
    description: 'rollouts per problem (a GRPO group)',
  },
  promptsPerStep: { kind: 'integer', min: 1, default: 1, description: 'problems per optimizer step' },
  lr: { kind: 'number', min: 0, default: DEFAULT_RL_LR, description: 'learning rate (constant)' },
  beta: { kind: 'number', min: 0, default: 0, description: 'KL coefficient against the starting policy' },
  clip: { kind: 'number', min: 0, default: 0.2, description: 'clip range of the policy ratio (epsilon)' },
  reward: {
    kind: 'string',
    options: REWARDS,
    default: 'outcome',
    description:
      'outcome: +1 correct, -1 otherwise; shaped: adds tool and format terms (docs/commands/rl.md)',
  },
  saveSteps: { kind: 'integer', min: 1, default: 10, description: 'checkpoint every N steps (resume point)' },
  objective: {
    kind: 'string',
    options: OBJECTIVES,
    default: 'trajectory',
    description:
      'trajectory (ReTool: whole rollouts, outcome reward) or stepwise (SWiRL: one action per state of --problems step records, the judge as reward)',
  },
  baseline: {
    kind: 'string',
    options: BASELINES,
    description:
      "group (GRPO's group mean) or batch (leave-one-out mean of the batch; works when a group's rewards are all equal); default: group for trajectory, batch for stepwise",
  },
  judgeModel: {
    kind: 'string',
    path: true,
    description:
      'stepwise: a GGUF judge that answers --rubric (default: the rules judge); with --judge counterfactual, the model that continues after each action',
  },
  judgeThreads: {
    kind: 'integer',
    min: 1,
    description:
      'stepwise: CPU threads of the in-process --judge-model (default: all cores; fewer where the trainer or other work shares the CPU)',
  },
  judge: {
    kind: 'string',
    options: ['rules', 'model', 'counterfactual'],
    description:
      "stepwise: the reward's judge: rules, model (--judge-model answers --rubric), counterfactual (--judge-model continues after the action with its tool output and with it ablated: --ablate, --k, --alpha); default: model with --judge-model, else rules",
  },
  ablate: JUDGE_OPTIONS.ablate,
  k: JUDGE_OPTIONS.k,
  alpha: JUDGE_OPTIONS.alpha,
  rubric: {
    kind: 'string',
    default: 'process',
    description: 'stepwise with --judge-model: process, outcome or a rubric file',
  },
  temperature: { ...SAMPLING_OPTIONS.temperature, default: 1 },
  topP: { ...SAMPLING_OPTIONS.topP, default: 1 },
  seed: SAMPLING_OPTIONS.seed,
  maxTokens: { ...SAMPLING_OPTIONS.maxTokens, default: 1024 },
  maxToolCalls: SAMPLING_OPTIONS.maxToolCalls,
  maxOutputChars: SAMPLING_OPTIONS.maxOutputChars,
  maxToolOutputTokens: SAMPLING_OPTIONS.maxToolOutputTokens,
  truncateSide: SAMPLING_OPTIONS.truncateSide,
  promptTemplate: SAMPLING_OPTIONS.promptTemplate,
  codePromptTemplate: SAMPLING_OPTIONS.codePromptTemplate,
  system: SAMPLING_OPTIONS.system,
  hints: {
    kind: 'boolean',
    default: false,
    description: 'insert hints in rollouts (masked from the loss, as code output)',
  },
  thinkHints: HINT_OPTIONS.thinkHints,
  connectiveHints: { ...HINT_OPTIONS.connectiveHints, default: 0 },
  hintProbStart: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 1,
    description:
      'with --hints: the chance a rollout gets hints at the first step (annealed to --hint-prob-end)',
  },
  hintProbEnd: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 1,
    description: 'with --hints: the chance a rollout gets hints at the last step (a curriculum that fades)',
  },
  passBand: {
    kind: 'string',
    default: '0,1',
    description:
      'LO,HI: train only on problems whose pass rate under the starting policy is within it (SimpleTIR: 0.1,0.9), read from --pass-rates-from or estimated from --pass-band-samples rollouts each',
  },
  passRatesFrom: {
    kind: 'list',
    path: true,
    split: true,
    description:
      "with --pass-band: the starting policy's sampled trajectories (JSONL, e.g. rft stage 2's samples.jsonl), graded into the pass rates; a problem with fewer than 2 samples is estimated by rollouts",
  },
  passBandSamples: {
    kind: 'integer',
    min: 2,
    default: 8,
    description: 'with --pass-band: rollouts per problem that estimate its pass rate',
  },
  evalEvery: {
    kind: 'integer',
    min: 0,
    default: 0,
    description: 'every N steps, greedy pass@1 and tool use on --eval-problems, logged as val.* (0: never)',
  },
  evalProblems: {
    kind: 'list',
    path: true,
    split: true,
    description:
      'held-out problems (JSONL files, comma-separated) for --eval-every; none may be a training problem',
  },
  oversample: {
    kind: 'integer',
    min: 1,
    max: 16,
    default: 1,
    description:
      "rStar2-Agent's resample-on-correct: roll out K times a group, keep the pass rate, the right rollouts with the fewest tool errors and no refusal, wrong ones at random",
  },
  dynamicSampling: {
    kind: 'boolean',
    default: false,
    description:
      'DAPO: drop groups whose rollouts are all right or all wrong and sample new ones until the step is full',
  },
  maxSampleRounds: {
    kind: 'integer',
    min: 0,
    default: 3,
    description:
      'with --dynamic-sampling: extra sampling rounds per step at most (then uninformative groups fill it)',
  },
  overlong: {
    kind: 'string',
    options: OVERLONG,
    default: 'keep',
    description:
      'a rollout cut at --max-tokens: keep (graded as it is), mask (out of the loss, DAPO), soft (a penalty over --overlong-buffer tokens before the limit)',
  },
  overlongBuffer: {
    kind: 'integer',
    min: 1,
    default: 256,
    description: 'with --overlong soft: tokens before --max-tokens over which the penalty grows to 1',
  },
  voidTurns: {
    kind: 'string',
    options: VOID_TURNS,
    default: 'keep',
    description:
      'a rollout whose last turn after a tool call has neither code nor an answer: keep, or mask from the loss (SimpleTIR)',
  },
  lora: TRAINING_OPTIONS.lora,
  loraR: TRAINING_OPTIONS.loraR,
  loraAlpha: TRAINING_OPTIONS.loraAlpha,
  trainSeed: TRAINING_OPTIONS.trainSeed,
  outtype: { ...TRAINING_OPTIONS.outtype, options: OUTTYPES },
  noExport: {
    kind: 'boolean',
    default: false,
    description:
      'keep the policy as the Hugging Face checkpoint <out>/policy only, no GGUF (sweeps, a hand-off to HF or verl); the pipeline always exports',
  },
  venv: TRAINING_OPTIONS.venv,
} as const satisfies OptionSpecs

export type RlSettings = OptionValues<typeof RL_OPTIONS>

/** `--pass-band LO,HI` as bounds: two rates, 0 <= LO <= HI <= 1; anything else names the flag. */
export function passBandBounds(band: string): { passBandLow: number; passBandHigh: number } {
  const parts = band.split(',').map((part) => Number(part.trim()))
  const [low, high] = parts
  if (parts.length !== 2 || !(low! >= 0 && low! <= high! && high! <= 1)) {
    throw new UsageError(`--pass-band ${band}: expected LO,HI with 0 <= LO <= HI <= 1 (e.g. 0.1,0.9)`)
  }
  return { passBandLow: low!, passBandHigh: high! }
}
