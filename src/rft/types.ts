import type { PlanStepEvent, PlanStepReport } from '../runner/plan.js'
import type { TrainEvent } from '../training/trainer.js'
import type { RftSettings } from './options.js'
import type { RftPlanStep } from './plan.js'

export type RftEvent = PlanStepEvent | { kind: 'train'; step: RftPlanStep; event: TrainEvent }

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
