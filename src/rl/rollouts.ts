import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomically } from '../core/atomic-write.js'
import { promptOpensThinking } from '../grading/extract-answer.js'
import { type Grade, type Grader, reasonClass } from '../grading/grader.js'
import { contextOf, parseReference } from '../grading/reference.js'
import type { HintLibrary } from '../hints/library.js'
import { type HintPolicy, sampleSeed, seededRandom } from '../hints/policy.js'
import type { ChatTemplate } from '../inference/chat-template.js'
import { outputTokenLimit, runLoopInSession, sampleTrajectory } from '../inference/run-hint-infer.js'
import type { TrajectoryRecord, TrajectoryResult } from '../inference/types.js'
import type { Problem } from '../problems/types.js'
import type { SandboxPool } from '../sandbox/pool.js'
import type { StepJudgement } from '../swirl/judge-rules.js'
import type { JudgedStep } from '../swirl/read-steps.js'
import type { StepRecord } from '../swirl/split-steps.js'
import type { RlEventOf } from '../training/trainer-protocol.js'
import type { RlSettings } from './options.js'
import { type PolicyChannel, PolicyEngine } from './policy-engine.js'
import { hintProbability, lossExclusion, overlongPenalty, rolloutReward } from './reward.js'

/** A finished rollout as `<out>/rollouts/` keeps it: the trajectory, its grade and its reward. */
export interface RolloutRecord extends TrajectoryRecord {
  step: number
  rid: string
  correct: boolean
  reward: number
  /** Why the rollout was left out of the loss (`--overlong mask`, `--void-turns mask`), if it was. */
  exclude?: 'overlong' | 'void'
  /**
   * What the loss saw: completion tokens, those trained, the text of those masked (hints, outputs), and
   * where a one-pass tokenization of the text would differ from the ids trained on.
   */
  loss: RolloutLoss
}

export interface RolloutLoss {
  completionTokens: number
  trainedTokens: number
  maskedText: string
  divergences: { at: number; trained: string; once: string }[]
}

/** A finished step-wise rollout (`--objective stepwise`): one action from a state, judged and rewarded. */
export interface StepRolloutRecord {
  step: number
  rid: string
  run: string
  /** The state's id: `<trajectory>#<step>`. */
  state: string
  problemId: string
  sample: number
  action: string
  toolOutput: string | null
  finishReason: string
  judgement: StepJudgement
  reward: number
  loss: RolloutLoss
}

export interface RolloutContext {
  settings: RlSettings
  runId: string
  problems: Map<string, Problem>
  /** `--objective stepwise`: the states rolled out from, by id, and the judge of one action. */
  states: Map<string, JudgedStep>
  judgeStep: (step: StepRecord) => Promise<StepJudgement>
  chat: ChatTemplate
  /** The policy's context, as the trainer states it when it starts. */
  contextSize: number
  hints: { policy: HintPolicy; library: HintLibrary } | null
  pool: SandboxPool
  grader: Grader
  channel: PolicyChannel
  /** Where each step's rollouts are written, and the validation rollouts (`--eval-every`). */
  rolloutsDir: string
  validationDir: string
}

/** The rollouts the trainer asked for: each runs the hint-infer loop on the policy, is graded and rewarded. */
export async function rollOutBatch(
  event: RlEventOf<'rollouts'>,
  part: number,
  context: RolloutContext,
): Promise<void> {
  const records = await Promise.all(
    // A sample number per step, batch and rollout (its seed follows): the same after a resume.
    event.items.map((item, index) => {
      const sample = event.step * 100_000 + part * 1_000 + index
      return context.settings.objective === 'stepwise'
        ? rollOutStep(item, sample, context)
        : rollOutOne(item, sample, event.step, context, event.purpose === 'validation')
    }),
  )
  const ended = await context.channel.request({ op: 'end', rid: `batch:${event.batch}` })
  const losses = ended.rollouts as RolloutRecord['loss'][]
  const file = `step-${String(event.step).padStart(5, '0')}${part ? `-${part}` : ''}.jsonl`
  const dir = event.purpose === 'validation' ? context.validationDir : context.rolloutsDir
  await mkdir(dir, { recursive: true })
  await writeFileAtomically(
    join(dir, file),
    records
      .map((record, index) => `${JSON.stringify({ ...record, step: event.step, loss: losses[index] })}\n`)
      .join(''),
  )
}

async function rollOutOne(
  item: { rid: string; problem: string },
  sample: number,
  step: number,
  context: RolloutContext,
  validation = false,
): Promise<Omit<RolloutRecord, 'loss' | 'step'>> {
  const { settings, runId } = context
  const problem = context.problems.get(item.problem)!
  const engine = new PolicyEngine(context.channel, context.chat, context.contextSize, item.rid, 'policy')
  // Hints as a curriculum: each rollout gets them with a chance that anneals over the steps.
  const hintChance = hintProbability(step, settings.maxSteps, settings.hintProbStart, settings.hintProbEnd)
  const chance = seededRandom(sampleSeed(settings.seed, `hint-chance:${item.problem}`, sample))()
  // A validation rollout has no hints: the policy is measured on what it does alone.
  const hinted = !validation && context.hints !== null && chance < hintChance
  const record = await sampleTrajectory(
    engine,
    context.pool,
    problem,
    sample,
    { runId, settings },
    hinted ? context.hints : null,
  )
  const grade = await gradeRollout(context.grader, record)
  const failedCalls = record.segments.filter(
    (segment) => segment.execution && (segment.execution.exitCode !== 0 || segment.execution.timedOut),
  ).length
  const outcome = {
    correct: grade.correct,
    // why a rollout was refused, per step in the trainer's log (a rising `hedged` share: a policy hedging)
    refused: grade.correct || !grade.reason ? undefined : reasonClass(grade.reason),
    answered: grade.predicted !== null,
    toolCalls: record.toolCalls,
    failedCalls,
  }
  const used = record.tokens.generatedTokens + record.tokens.appendedTokens
  const reward =
    rolloutReward(settings.reward, outcome) +
    (settings.overlong === 'soft' ? overlongPenalty(used, settings.maxTokens, settings.overlongBuffer) : 0)
  const exclude = lossExclusion(settings, { ...record, answered: outcome.answered })
  context.channel.send({
    op: 'finish',
    rid: item.rid,
    textLength: record.text.length,
    reward,
    ...outcome,
    exclude,
    hinted,
  })
  return { ...record, predicted: grade.predicted, rid: item.rid, correct: grade.correct, reward, exclude }
}

/**
 * A rollout's grade: the record's text against its reference, with what the record says of how it came
 * about (finish reason, prompt, segments, problem), as `start grade` reads a record.
 */
export async function gradeRollout(grader: Grader, record: TrajectoryRecord): Promise<Grade> {
  const fields = record as unknown as Record<string, unknown>
  const parsed = parseReference(fields)
  if ('error' in parsed) throw new Error(`${record.problemId}: ${parsed.error}`)
  return grader.grade(record.text, parsed.reference, contextOf(fields))
}

/**
 * One SWiRL step from a state: the policy continues the state's text until its first code block has run
 * (or it ends its turn), the action alone is trained (the state is prompt, the code output is cut off), and
 * the judge's verdict on the action is the reward: +1 yes, -1 no or unjudged (a policy must not gain by
 * making the judge fail).
 */
async function rollOutStep(
  item: { rid: string; problem: string },
  sample: number,
  context: RolloutContext,
): Promise<Omit<StepRolloutRecord, 'loss' | 'step'>> {
  const { settings } = context
  const state = context.states.get(item.problem)!
  const engine = new PolicyEngine(context.channel, context.chat, context.contextSize, item.rid, 'policy')
  const rendered = engine.renderPrompt(state.state.messages)
  const stream = await engine.startGeneration(
    rendered,
    {
      temperature: settings.temperature,
      topP: settings.topP,
      seed: sampleSeed(settings.seed, item.problem, sample),
    },
    { continuation: state.state.text },
  )
  let result: TrajectoryResult
  try {
    result = await runLoopInSession(stream, context.pool, {
      hints: null,
      domain: state.tests ? 'code' : 'math',
      startsThinking: promptOpensThinking(rendered) && !state.state.text.includes('</think>'),
      maxTokens: settings.maxTokens,
      maxToolCalls: 1,
      maxOutputChars: settings.maxOutputChars,
      outputTokens: outputTokenLimit(settings, engine),
      stopAfterToolCall: true,
    })
  } finally {
    await stream.close()
  }
  const output = result.segments.find((segment) => segment.kind === 'output')
  const action = result.segments
    .slice(0, output ? result.segments.indexOf(output) : undefined)
    .map((segment) => segment.text)
    .join('')
  const { judgements: _, ...previous } = state
  const step: StepRecord = {
    ...previous,
    action,
    insertedSpans: [],
    toolOutput: output?.text ?? null,
    final: !output,
  }
  const judgement = await context.judgeStep(step)
  const reward = judgement.verdict === 'yes' ? 1 : -1
  const failed = output?.execution && (output.execution.exitCode !== 0 || output.execution.timedOut)
  context.channel.send({
    op: 'finish',
    rid: item.rid,
    textLength: action.length,
    reward,
    correct: judgement.verdict === 'yes',
    answered: judgement.verdict !== 'unjudged',
    toolCalls: result.toolCalls,
    failedCalls: failed ? 1 : 0,
  })
  return {
    rid: item.rid,
    run: context.runId,
    state: item.problem,
    problemId: state.problemId,
    sample,
    action,
    toolOutput: step.toolOutput,
    finishReason: result.finishReason,
    judgement,
    reward,
  }
}
