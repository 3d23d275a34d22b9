import { UsageError } from '../core/errors.js'
import type { ProgressListener } from '../core/events.js'
import { readJsonlInputs } from '../core/jsonl.js'
import { runStage, type StageRunOptions } from '../core/stage-run.js'
import { judgeByRules } from './judge-rules.js'
import type { StepRecord } from './split-steps.js'

export interface JudgeOptions extends StageRunOptions {
  inputs: string[]
  onProgress?: ProgressListener
}

export interface JudgeSummary {
  run: string
  out: string
  steps: number
  reasonable: number
  /** How often each reason made a step unreasonable. */
  reasons: Record<string, number>
}

/** `start judge --judge rules`: each step record of `start steps`, labelled; a trajectory's steps together. */
export async function runJudge(options: JudgeOptions): Promise<JudgeSummary> {
  return runStage({ ...options, command: 'judge' }, async ({ sink }) => {
    const summary: JudgeSummary = {
      run: options.runId,
      out: options.out ?? '-',
      steps: 0,
      reasonable: 0,
      reasons: {},
    }
    let group: StepRecord[] = []
    const flush = async () => {
      for (const [index, judgement] of judgeByRules(group).entries()) {
        await sink.write({ ...group[index], judgement })
        summary.steps++
        if (judgement.verdict === 'reasonable') summary.reasonable++
        for (const reason of judgement.reasons) summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1
      }
      group = []
      options.onProgress?.({ done: summary.steps, detail: `${summary.reasonable} reasonable` })
    }
    for await (const { value, file, line } of readJsonlInputs(options.inputs)) {
      const step = value as StepRecord
      if (
        typeof step?.trajectory !== 'string' ||
        typeof step.action !== 'string' ||
        !('toolOutput' in step)
      ) {
        throw new UsageError(
          `${file}:${line}: not a step record`,
          'the input is the JSONL start steps writes',
        )
      }
      if (group.length > 0 && group[0]!.trajectory !== step.trajectory) await flush()
      group.push(step)
    }
    if (group.length > 0) await flush()
    return summary
  })
}
