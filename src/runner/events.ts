import type { PlanStepEvent } from './plan.js'

/**
 * One optimiser step as the trainer logged it, in start's own words: the trainer's wire format (snake_case
 * JSON lines) is translated where the trainer is read (`optimiserStep` in src/training/trainer.ts).
 */
export interface OptimiserStepEvent {
  kind: 'optimiser-step'
  step: number
  maxSteps: number
  loss?: number
  /** The rest of what was logged: learning rate and epoch; for RL reward, accuracy, tool calls, KL... */
  metrics: Record<string, number>
}

/** What a multi-step stage (rft, rl, the pipeline) reports while it runs; one union, keyed on `kind`. */
export type StageEvent = PlanStepEvent | OptimiserStepEvent
