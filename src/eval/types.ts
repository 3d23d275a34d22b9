import type { AccuracySummary } from './metrics.js'
import type { EvalSettings } from './options.js'

/** How a model is run: with or without the interpreter, and how many end-of-thinking hints. */
export interface EvalMode {
  name: string
  tools: boolean
  thinkHints: number
}

/** One evaluated (model, benchmark, mode): accuracy and how the tools were used. */
export interface EvalRow extends AccuracySummary {
  model: string
  modelPath: string
  benchmark: string
  mode: string
  tools: boolean
  thinkHints: number
  /** Share of trajectories with at least one executed code block. */
  toolUseRate: number
  meanToolCalls: number
  /**
   * Share of trajectories with a ```python block the interpreter did not run (in no-tools mode, all the
   * code the model wrote): a model that writes code and then invents its output shows here.
   */
  unrunCodeRate: number
  /** Share of trajectories in which the model wrote an ```output block itself. */
  inventedOutputRate: number
  meanChars: number
  meanTokens: number
  /** Per hint and where it went: how often it was followed by code, and how often the answer was right. */
  hints: HintStat[]
  /** Per problem id, the share of its samples that were correct: what paired comparisons use. */
  perProblem?: Record<string, number>
  /** With `--cluster-key`: each problem's cluster, and pass@1's interval by the cluster bootstrap. */
  clusters?: Record<string, string>
  pass1ClusterInterval?: [number, number]
}

export interface HintStat {
  hint: string
  trigger: string
  position: 'early' | 'middle' | 'late'
  count: number
  followedByTool: number
  correct: number
}

export interface EvalSummary {
  run: string
  out: string
  units: number
  resumed: number
  rows: EvalRow[]
  settings: EvalSettings
}
