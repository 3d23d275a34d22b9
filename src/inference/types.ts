import type { ExecutionResult } from '../sandbox/types.js'
import type { StreamStats } from './engine.js'

/** A piece of a trajectory's text: what the model wrote, a hint the loop inserted, or a code output. */
export interface Segment {
  kind: 'model' | 'hint' | 'output'
  text: string
  /** For a hint: which one, and what triggered it. */
  hint?: { id: string; category: string; trigger: 'connective' | 'think-end'; word?: string }
  /** For an output: the execution behind it. */
  execution?: ExecutionResult & { code: string }
}

export type FinishReason = 'stop' | 'length' | 'context'

export interface TrajectoryResult {
  text: string
  segments: Segment[]
  toolCalls: number
  finishReason: FinishReason
  stats: StreamStats
}
