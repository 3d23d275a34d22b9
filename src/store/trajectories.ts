import { insertExecution, type StoredExecution } from './executions.js'
import { type Db, now } from './store.js'

/** The columns the store keeps of one segment of a trajectory (hint-infer's segments have these fields). */
export interface StoredSegment {
  kind: string
  text: string
  hint?: object
  execution?: StoredExecution & { code: string }
}

export interface TrajectoryRow {
  runId: string
  unitKey: string
  problemId: string
  sample: number
  prompt: string
  text: string
  predicted: string | undefined
  finishReason: string
  toolCalls: number
  promptTokens: number
  completionTokens: number
  segments: StoredSegment[]
  details: Record<string, unknown>
}

/** Stores a trajectory with its segments and executions; call inside RunStore.completeUnit. */
export function insertTrajectory(db: Db, row: TrajectoryRow): number {
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO trajectories (run_id, problem_id, sample, prompt, text, answer, finish_reason, tool_calls,
                                 prompt_tokens, completion_tokens, details, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.runId,
      row.problemId,
      row.sample,
      row.prompt,
      row.text,
      row.predicted ?? null,
      row.finishReason,
      row.toolCalls,
      row.promptTokens,
      row.completionTokens,
      JSON.stringify(row.details),
      now(),
    )
  const trajectoryId = Number(lastInsertRowid)
  const insertSegment = db.prepare(
    'INSERT INTO segments (trajectory_id, position, kind, text, details) VALUES (?, ?, ?, ?, ?)',
  )
  let block = 0
  for (const [position, segment] of row.segments.entries()) {
    const { execution, hint } = segment
    insertSegment.run(trajectoryId, position, segment.kind, segment.text, hint ? JSON.stringify(hint) : null)
    if (execution) {
      const { code, ...result } = execution
      insertExecution(db, {
        runId: row.runId,
        unitKey: row.unitKey,
        trajectoryId,
        block: block++,
        code,
        result,
      })
    }
  }
  return trajectoryId
}
