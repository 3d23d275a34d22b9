import type { ProgressEvent } from '../core/events.js'
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

/**
 * What a stage reports while it runs, one union keyed on `kind`: its progress, a notice the user should
 * see (a retry, a sampling note, the virtualenv's set-up), a record it skipped as invalid, and for the
 * multi-step stages (rft, rl, the pipeline) its plan steps and optimiser steps. The stage emits; the CLI
 * decides how to show each (src/cli/progress.ts).
 */
export type StageEvent =
  | ({ kind: 'progress' } & ProgressEvent)
  | { kind: 'notice'; text: string }
  | { kind: 'invalid'; message: string }
  | PlanStepEvent
  | OptimiserStepEvent

export type StageListener = (event: StageEvent) => void

/** The notices of a lower layer (an engine's retries, the virtualenv's set-up) as a stage's events. */
export function noticesTo(onEvent: StageListener | undefined): ((text: string) => void) | undefined {
  return onEvent && ((text) => onEvent({ kind: 'notice', text }))
}
