import { existsSync } from 'node:fs'
import { fingerprint } from '../core/fingerprint.js'
import { RunStore } from '../store/runs.js'
import { openDatabase } from '../store/store.js'

/**
 * One step of a multi-step command (`start rft`, `start pipeline`): what it makes, from what. A step is
 * current, and skipped, when its outputs exist and this run made them from the inputs as they are now.
 */
export interface PlanStep {
  id: string
  description: string
  inputs: string[]
  outputs: string[]
  /** Current whenever its outputs exist (its output depends on nothing this run could change). */
  currentWhenOutputsExist?: boolean
  run: () => Promise<unknown>
}

export type PlanStepEvent =
  | { kind: 'step-start'; step: PlanStep }
  | { kind: 'step-skip'; step: PlanStep }
  | { kind: 'step-done'; step: PlanStep; seconds: number }

export interface PlanStepReport {
  id: string
  description: string
  status: 'done' | 'skipped' | 'pending'
  outputs: string[]
  seconds?: number
}

/**
 * Outputs appear by rename, so one that exists is whole; it is current when the run recorded the
 * fingerprint of the inputs it was made from and the inputs still have it.
 */
export function isCurrent(step: Omit<PlanStep, 'run'>, finished: Map<string, unknown>): boolean {
  if (!step.outputs.every((output) => existsSync(output))) return false
  if (step.currentWhenOutputsExist) return true
  const record = finished.get(step.id) as { inputs?: string } | undefined
  return record?.inputs === fingerprint(step.inputs)
}

/** What `--dry-run` prints: each step, and whether a run of `runId` in the store `db` would skip it. */
export function planSteps(steps: Omit<PlanStep, 'run'>[], db: string, runId: string): PlanStepReport[] {
  const store = openDatabase(db)
  try {
    const finished = new RunStore(store).finishedUnits(runId)
    return steps.map((step) => ({
      ...describe(step),
      status: isCurrent(step, finished) ? 'done' : 'pending',
    }))
  } finally {
    store.close()
  }
}

export interface PlanRunOptions {
  store: RunStore
  runId: string
  finished: Map<string, unknown>
  onEvent?: (event: PlanStepEvent) => void
  /** Stop after this step. */
  until?: string
}

/**
 * Runs the steps in order, skipping the current ones. Each finished step is recorded with its result
 * and its inputs' fingerprint, so a rerun after a kill goes on from the step that was cut off.
 */
export async function runPlan(steps: PlanStep[], options: PlanRunOptions): Promise<PlanStepReport[]> {
  const reports: PlanStepReport[] = []
  for (const step of steps) {
    options.store.setCurrentStep(options.runId, step.id)
    if (isCurrent(step, options.finished)) {
      options.onEvent?.({ kind: 'step-skip', step })
      reports.push({ ...describe(step), status: 'skipped' })
    } else {
      options.onEvent?.({ kind: 'step-start', step })
      const started = performance.now()
      const result = await step.run()
      const seconds = (performance.now() - started) / 1000
      options.store.completeUnit(options.runId, step.id, {
        ...(result as object),
        inputs: fingerprint(step.inputs),
      })
      options.onEvent?.({ kind: 'step-done', step, seconds })
      reports.push({ ...describe(step), status: 'done', seconds })
    }
    if (step.id === options.until) break
  }
  return reports
}

function describe(step: Omit<PlanStep, 'run'>): Omit<PlanStepReport, 'status'> {
  return { id: step.id, description: step.description, outputs: step.outputs }
}
