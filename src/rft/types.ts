import type { PlanStepReport } from '../runner/plan.js'
import type { RftSettings } from './options.js'

export interface RftSummary {
  run: string
  stage: 1 | 2
  out: string
  dryRun: boolean
  steps: PlanStepReport[]
  model?: string
  training?: {
    steps: number
    trainLoss: number
    firstLoss: number | null
    lastLoss: number | null
    seconds: number
    tokensPerSecond: number | null
  }
  samples?: number
  kept?: number
  settings: RftSettings
}
