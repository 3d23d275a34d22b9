import type { StepEvent, StepReport } from '../core/steps.js'
import type { TrainEvent } from '../training/trainer.js'
import type { RftSettings } from './options.js'
import type { RftStep } from './plan.js'

export type RftEvent = StepEvent | { kind: 'train'; step: RftStep; event: TrainEvent }

export interface RftSummary {
  run: string
  stage: 1 | 2
  out: string
  dryRun: boolean
  steps: StepReport[]
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
