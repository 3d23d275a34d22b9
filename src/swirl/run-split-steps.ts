import { resolve } from 'node:path'
import { UsageError } from '../core/errors.js'
import { readJsonlInputs } from '../core/jsonl.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { setParents } from '../store/lineage.js'
import { type SplittableTrajectory, splitSteps, trajectoryError } from './split-steps.js'

export interface SplitStepsOptions extends StageRunOptions {
  inputs: string[]
}

export interface SplitStepsSummary {
  run: string
  out: string
  trajectories: number
  steps: number
  /** Steps that end in a tool call (the rest are final answers). */
  toolSteps: number
}

/** `start steps`: trajectories -> step records (state, action, tool output), streamed in input order. */
export async function runSplitSteps(options: SplitStepsOptions): Promise<SplitStepsSummary> {
  return runStage({ ...options, command: 'steps' }, async ({ db, sink }) => {
    const summary: SplitStepsSummary = {
      run: options.runId,
      out: options.out ?? '-',
      trajectories: 0,
      steps: 0,
      toolSteps: 0,
    }
    for await (const { value, file, line } of readJsonlInputs(options.inputs)) {
      const error = trajectoryError(value)
      if (error)
        throw new UsageError(`${file}:${line}: ${error}`, 'the input is the JSONL start hint-infer writes')
      for (const step of splitSteps(value as SplittableTrajectory)) {
        await sink.write(step)
        summary.steps++
        if (!step.final) summary.toolSteps++
      }
      summary.trajectories++
      options.onEvent?.({ kind: 'progress', done: summary.trajectories, detail: `${summary.steps} steps` })
    }
    if (options.out) {
      setParents(db, { kind: 'dataset', id: resolve(options.out) }, [
        ...options.inputs.map((input) => ({ kind: 'file' as const, id: resolve(input) })),
        { kind: 'run', id: options.runId },
      ])
    }
    return summary
  })
}
