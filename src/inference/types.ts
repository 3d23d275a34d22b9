import type { HintPoint } from '../hints/policy.js'
import type { ExecutionResult } from '../sandbox/types.js'
import type { ChatMessage, StreamStats } from './engine.js'

/** A piece of a trajectory's text: what the model wrote, a hint the loop inserted, or a code output. */
export interface Segment {
  kind: 'model' | 'hint' | 'output'
  text: string
  /** For a hint: which one, and what triggered it. */
  hint?: { id: string; category: string; trigger: 'connective' | 'think-end'; word?: string }
  /** For an output: the execution behind it. */
  execution?: ExecutionResult & { code: string }
}

/** How generation ended; `tool-call`: after one tool call, for a loop told to stop there (one SWiRL step). */
export type FinishReason = 'stop' | 'length' | 'context' | 'tool-call' | 'hint-point'

export interface TrajectoryResult {
  text: string
  segments: Segment[]
  toolCalls: number
  finishReason: FinishReason
  stats: StreamStats
  /** With `stopAtHint`: where the first hint would have gone, and whether the model was thinking there. */
  hintPoint?: HintPoint & { thinking: boolean }
}

/** A trajectory as written to JSONL: ready for `start grade` / `start filter`. */
export interface TrajectoryRecord {
  /** The hint-infer run that made it (lineage for filter datasets). */
  run: string
  problemId: string
  source: string
  sample: number
  /** The problem statement (for code: the function prompt the tests complete). */
  problem: string
  /** The chat messages the model was given; `prompt` is them rendered with the chat template. */
  messages: ChatMessage[]
  prompt: string
  text: string
  segments: Segment[]
  /** The last \boxed{} of the text. */
  predicted: string | null
  /** The problem's reference: `answer` (math) or `tests` + `entry_point` (code). */
  answer?: string
  tests?: string
  entry_point?: string
  hints: { id: string; category: string; trigger: string; word?: string; offset: number }[]
  toolCalls: number
  finishReason: FinishReason
  tokens: StreamStats
  ms: number
  hinted: boolean
  /** Why the record failed before generating (a prompt longer than the context). */
  error?: string
  /** With `stopAtHint` (`start hints evolve`'s prefixes): where the first hint would have gone. */
  hintPoint?: TrajectoryResult['hintPoint']
}
