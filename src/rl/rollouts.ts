import { join } from 'node:path'
import { writeFileAtomically } from '../core/atomic-write.js'
import type { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import type { HintLibrary } from '../hints/library.js'
import type { HintPolicy } from '../hints/policy.js'
import type { ChatTemplate } from '../inference/chat-template.js'
import { sampleTrajectory } from '../inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../inference/types.js'
import type { Problem } from '../problems/types.js'
import type { SandboxPool } from '../sandbox/pool.js'
import type { RlEvent } from '../training/trainer.js'
import type { RlSettings } from './options.js'
import { type PolicyChannel, PolicyEngine } from './policy-engine.js'
import { rolloutReward } from './reward.js'

/** A finished rollout as `<out>/rollouts/` keeps it: the trajectory, its grade and its reward. */
export interface RolloutRecord extends TrajectoryRecord {
  step: number
  rid: string
  correct: boolean
  reward: number
  /** What the loss saw: completion tokens, those trained, and the text of those masked (hints, outputs). */
  loss: { completionTokens: number; trainedTokens: number; maskedText: string }
}

export interface RolloutContext {
  settings: RlSettings
  runId: string
  problems: Map<string, Problem>
  chat: ChatTemplate
  /** The policy's context, as the trainer states it when it starts. */
  contextSize: number
  hints: { policy: HintPolicy; library: HintLibrary } | null
  pool: SandboxPool
  grader: Grader
  channel: PolicyChannel
  /** Where each step's rollouts are written. */
  rolloutsDir: string
}

/** The rollouts the trainer asked for: each runs the hint-infer loop on the policy, is graded and rewarded. */
export async function rollOutBatch(
  event: Extract<RlEvent, { event: 'rollouts' }>,
  part: number,
  context: RolloutContext,
): Promise<void> {
  const records = await Promise.all(
    // A sample number per step, batch and rollout (its seed follows): the same after a resume.
    event.items.map((item, index) => rollOutOne(item, event.step * 100_000 + part * 1_000 + index, context)),
  )
  const ended = await context.channel.request({ op: 'end', rid: `batch:${event.batch}` })
  const losses = ended.rollouts as RolloutRecord['loss'][]
  const file = `step-${String(event.step).padStart(5, '0')}${part ? `-${part}` : ''}.jsonl`
  await writeFileAtomically(
    join(context.rolloutsDir, file),
    records
      .map((record, index) => `${JSON.stringify({ ...record, step: event.step, loss: losses[index] })}\n`)
      .join(''),
  )
}

async function rollOutOne(
  item: { rid: string; problem: string },
  sample: number,
  context: RolloutContext,
): Promise<Omit<RolloutRecord, 'loss' | 'step'>> {
  const { settings, runId } = context
  const problem = context.problems.get(item.problem)!
  const engine = new PolicyEngine(context.channel, context.chat, context.contextSize, item.rid, 'policy')
  const record = await sampleTrajectory(
    engine,
    context.pool,
    problem,
    sample,
    { runId, settings },
    context.hints,
  )
  const parsed = parseReference(record as unknown as Record<string, unknown>)
  if ('error' in parsed) throw new Error(`${item.problem}: ${parsed.error}`)
  const grade = await context.grader.grade(record.text, parsed.reference, record)
  const failedCalls = record.segments.filter(
    (segment) => segment.execution && (segment.execution.exitCode !== 0 || segment.execution.timedOut),
  ).length
  const outcome = {
    correct: grade.correct,
    answered: grade.predicted !== null,
    toolCalls: record.toolCalls,
    failedCalls,
  }
  const reward = rolloutReward(settings.reward, outcome)
  context.channel.send({ op: 'finish', rid: item.rid, textLength: record.text.length, reward, ...outcome })
  return { ...record, predicted: grade.predicted, rid: item.rid, correct: grade.correct, reward }
}
